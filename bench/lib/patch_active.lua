-- patch_active.lua: Okta's deactivate/reactivate of random users:
-- PATCH $BENCH_PATH/<id> with replace {"active": false|true}.
dofile(os.getenv("BENCH_LIB") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
local ids = lines(os.getenv("BENCH_IDS"))
local n = 0

function request()
	n = n + 1
	local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
	    '"Operations":[{"op":"replace","value":{"active":' ..
	    (n % 2 == 0 and "true" or "false") .. '}}]}'
	return wrk.format("PATCH", path .. "/" .. ids[math.random(#ids)], nil, body)
end
