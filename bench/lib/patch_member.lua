-- patch_member.lua: Okta's Group Push membership change on $BENCH_PATH
-- (a group): each thread adds, then removes, its own member (line tid
-- of $BENCH_IDS).  Run with one connection per thread so the two
-- alternate strictly.
dofile(os.getenv("BENCH_LIB") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
local ids = lines(os.getenv("BENCH_IDS"))
local n = 0

function request()
	local id = ids[tid]
	local op
	n = n + 1
	if n % 2 == 1 then
		op = '{"op":"add","path":"members","value":[{"value":"' .. id .. '"}]}'
	else
		op = '{"op":"remove","path":"members[value eq \\"' .. id .. '\\"]"}'
	end
	return wrk.format("PATCH", path, nil,
	    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
	    '"Operations":[' .. op .. ']}')
end
