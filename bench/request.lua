-- wrk script: each request asks for a random phone's file.
-- Environment: BENCH_MACS (file of MACs), BENCH_PATH (with %s for the MAC),
-- BENCH_METHOD (GET or PUT), BENCH_CLOSE=1 for a new connection each time.
local macs = {}
for line in io.lines(os.getenv("BENCH_MACS")) do macs[#macs + 1] = line end
local path = os.getenv("BENCH_PATH")
local method = os.getenv("BENCH_METHOD") or "GET"
local headers = { ["User-Agent"] =
    "FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application" }
if os.getenv("BENCH_CLOSE") == "1" then headers["Connection"] = "close" end
local body = nil
if method == "PUT" then body = string.rep("0101 00:00:00 app| log line\n", 20) end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)

request = function()
    local mac = macs[math.random(#macs)]
    return wrk.format(method, string.format(path, mac), headers, body)
end

done = function(summary, latency, requests)
    io.write(string.format("RESULT %d %d %.0f %.0f %d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),
        summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout))
end
