-- get.lua: GET a random line of the file $BENCH_PATHS (request targets).
dofile(os.getenv("BENCH_LIB") .. "/common.lua")
local paths = lines(os.getenv("BENCH_PATHS"))

function request()
	return wrk.format("GET", paths[math.random(#paths)])
end
