-- authz.lua: GET $BENCH_PATH with a random line of $BENCH_AUTH as the
-- Authorization header (precomputed "Basic ..." values), so each request
-- logs in as one of a sample of provisioned users.
dofile(os.getenv("BENCH_LIB") .. "/common.lua")
local auth = lines(os.getenv("BENCH_AUTH"))
local path = os.getenv("BENCH_PATH")

function request()
	return wrk.format("GET", path, { ["Authorization"] = auth[math.random(#auth)] })
end
