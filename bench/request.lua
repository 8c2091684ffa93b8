-- wrk script: each request is for a phone drawn uniformly at random from
-- the whole fleet, as a server of a real fleet sees them (every phone polls;
-- the next request is from any of them).
-- Environment:
--   BENCH_FLEET    phones in the database; their MACs are BENCH_OUI followed
--                  by 0 .. BENCH_FLEET - 1 in six hex digits
--   BENCH_OUI      (0004f2)
--   BENCH_SAMPLE   0: the whole fleet; N: only N phones spread evenly over
--                  it, drawn or walked (a sample, which a per-child cache
--                  holds more easily: bench.py labels its results so)
--   BENCH_STEPS    what one phone asks for, "METHOD path" entries separated
--                  by ";", %s in a path standing for its MAC: one entry for
--                  a single file, several for a boot sequence (a thread asks
--                  for its phone's files in order, then draws the next phone)
--   BENCH_CLOSE    1: a new connection for each request
--   BENCH_ORDER    "walk": every phone once, in an order spread over the
--                  fleet (the first poll of every phone after a change),
--                  the threads taking turns along one walk from a random
--                  start; a run longer than the walk asks phones again,
--                  and the thread counts those repeats (bench.py reports
--                  them). Default: each phone drawn at random.
--   BENCH_PACE_MS  N > 0: each connection waits N ms after an answer before
--                  its next request (wrk's delay(), not counted in the
--                  latency), so that the server is asked at a set rate below
--                  what it can serve, as a fleet asks, instead of as fast as
--                  it answers; 0 (default): as fast as it answers. wrk takes
--                  whole ms: a fraction is dithered (1.8: 2 ms four times
--                  in five, 1 ms the fifth)
-- wrk cannot read the answer to a HEAD (it waits for a body), so sequences
-- given to wrk have none; bench.py's boot storm sends it.
local fleet = tonumber(os.getenv("BENCH_FLEET"))
local oui = os.getenv("BENCH_OUI") or "0004f2"
local sample = tonumber(os.getenv("BENCH_SAMPLE") or "0")
local walk = os.getenv("BENCH_ORDER") == "walk"
local steps = {}
for entry in string.gmatch(os.getenv("BENCH_STEPS"), "[^;]+") do
    local method, path = string.match(entry, "^%s*(%u+)%s+(%S+)%s*$")
    steps[#steps + 1] = { method = method, path = path }
end
local headers = { ["User-Agent"] =
    "FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application" }
if os.getenv("BENCH_CLOSE") == "1" then headers["Connection"] = "close" end
local body = string.rep("0101 00:00:00 app| log line\n", 20)

-- Each thread its own seed: the threads start within the same second, and
-- with one seed they would ask for the same phones in the same order.
local threads = {}
function setup(thread)
    threads[#threads + 1] = thread
    thread:set("thread_id", #threads)
end

local step = 1
local mac
local walked = 0
repeats = 0
function init(args)
    math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919
                    + tonumber(tostring({}):sub(8), 16) % 997)
end

-- The walk: phone (start + k * stride) mod fleet for k = 0, 1, ...; a
-- stride prime to the fleet's size visits every phone once before any
-- phone twice, and a large one spreads neighbours in the walk over the
-- whole fleet (and so over the database's pages). Thread t of T takes
-- k = t - 1, t - 1 + T, ...; the start comes from the environment so that
-- both threads walk the same permutation.
-- With a sample the walk goes over the sample's phones only, so that a
-- figure labelled "sample" is one.
local walked_size = (sample > 0 and sample < fleet) and sample or fleet
local stride = 1000003
while walked_size % stride == 0 do stride = stride + 2 end
local start = tonumber(os.getenv("BENCH_WALK_START") or "0")
local threads_total = tonumber(os.getenv("BENCH_THREADS") or "2")

local function draw()
    local n
    if walk then
        local k = (thread_id - 1) + walked * threads_total
        walked = walked + 1
        if k >= walked_size then repeats = repeats + 1 end
        n = (start + k * stride) % walked_size
        if walked_size < fleet then
            n = math.floor(n * fleet / walked_size)
        end
    elseif sample > 0 and sample < fleet then
        n = math.floor((math.random(sample) - 1) * fleet / sample)
    else
        n = math.random(fleet) - 1
    end
    return string.format("%s%06x", oui, n)
end

local pace = tonumber(os.getenv("BENCH_PACE_MS") or "0")
if pace > 0 then
    delay = function() return math.floor(pace + math.random()) end
end

request = function()
    if step == 1 then mac = draw() end
    local s = steps[step]
    step = step % #steps + 1
    return wrk.format(s.method, string.format(s.path, mac), headers,
                      s.method == "PUT" and body or nil)
end

-- A sequence meets 404s by design (no override, licence or directory is
-- stored), which wrk counts as errors; so its answers are read, and only
-- those that no step should get count (this reading costs the client the
-- same for the module and the static files).
unexpected = 0
if #steps > 1 then
    response = function(status, headers, body)
        if status ~= 200 and status ~= 201 and status ~= 204
           and status ~= 404 then
            unexpected = unexpected + 1
        end
    end
end

done = function(summary, latency, requests)
    local bad = summary.errors.status
    if #steps > 1 then
        bad = 0
        for _, thread in ipairs(threads) do bad = bad + thread:get("unexpected") end
    end
    local repeated = 0
    for _, thread in ipairs(threads) do
        repeated = repeated + thread:get("repeats")
    end
    io.write(string.format("RESULT %d %d %.0f %.0f %d %d %d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),
        bad,
        summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout,
        repeated))
end
