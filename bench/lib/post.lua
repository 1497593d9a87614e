-- post.lua: POST $BENCH_PATH a new User with a unique userName.
dofile(os.getenv("BENCH_LIB") .. "/common.lua")
local path = os.getenv("BENCH_PATH")
local prefix = os.getenv("BENCH_PREFIX")
local n = 0

function request()
	n = n + 1
	local name = string.format("%s-%d-%d@example.com", prefix, tid, n)
	local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],' ..
	    '"userName":"' .. name .. '","name":{"givenName":"Bench",' ..
	    '"familyName":"User"},"emails":[{"value":"' .. name ..
	    '","type":"work","primary":true}],"active":true}'
	return wrk.format("POST", path, nil, body)
end
