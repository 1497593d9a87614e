-- common.lua: shared by the bench scripts (loaded with dofile).
-- done() prints one line bench/run reads:
--   RESULT req/s p50-us p99-us errors requests
function done(summary, latency, requests)
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.status + e.timeout
	io.write(string.format("RESULT %.1f %d %d %d %d\n",
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99),
	    errors, summary.requests))
end

-- The lines of a file, as a table.
function lines(path)
	local t = {}
	for l in io.lines(path) do t[#t + 1] = l end
	return t
end

-- Gives each thread a number (tid), for unique names and its own member.
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
