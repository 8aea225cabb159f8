-- Shared by every scenario: loads the seeded data, gives each wrk thread its own random
-- stream and index, and writes the summary. Non-2xx answers are wrk's own count (it counts
-- every status of 400 and up; no scenario is answered with a redirect): a Lua `response`
-- callback would have wrk copy every answer's headers and body into Lua, costing CPU the
-- server then lacks.
local data = dofile(os.getenv("BENCH_DATA"))
local threads = {}
local counter = 0
-- wrk calls `request` once on its first thread's script before the run, to check what the
-- script builds (wrk.c: `script_verify_request(t->L)` for thread 0, right after `init`), and
-- never sends that request. A scenario whose requests change state asks `wrk_check()` first.
local checks_left = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + thread_index)
  D = data
  checks_left = thread_index == 1 and 1 or 0
  if scenario_init then scenario_init() end
end

-- For scenarios whose requests need no state: `make` builds 10,000 random requests once per
-- thread, and `request` replays them in turn, so the load generator spends its CPU sending,
-- not formatting.
function replay(make)
  local made, i = {}, 0
  scenario_init = function()
    for j = 1, 10000 do
      made[j] = make()
    end
  end
  request = function()
    i = i % #made + 1
    return made[i]
  end
end

-- wrk corrects its latency histogram for coordinated omission before `done` sees it (wrk.c,
-- `stats_correct`): with e the mean interval between one connection's requests (run time ÷
-- (answers ÷ connections)), each answer that took L ≥ 2e adds made-up samples at L−e, L−2e,
-- ... down to just above e, for the requests the connection would have sent meanwhile had the
-- load been open. One 1-second wait at 8,000 req/s on 16 connections becomes ~500 samples:
-- over 0.5 % of a 10-second run. This undoes it, giving the answers' own latencies: going
-- down from the top, the made-up count at m > e is the sum of the real counts at m+e, m+2e, ...
-- wrk's Lua API gives no cheap way to read the histogram (`latency(i)` scans it from the
-- start), so LuaJIT's FFI reads wrk's own `stats` struct (stats.h, wrk 4.x), after checking
-- that its fields agree with what the API reports; nil when they do not.
local ffi = require("ffi")
ffi.cdef("typedef struct { uint64_t count, limit, min, max; uint64_t data[]; } bench_stats;")

local function raw_latencies(latency, summary)
  local s = ffi.cast("bench_stats **", latency)[0]
  local lo, hi = tonumber(s.min), tonumber(s.max)
  if lo ~= latency.min or hi ~= latency.max then return nil end
  local conns = tonumber(os.getenv("BENCH_CONNS") or "")
  local per_conn = conns and math.floor(summary.requests / conns) or 0
  local e = per_conn > 0 and math.floor(summary.duration / per_conn) or math.huge
  local counts, above, all, total = {}, {}, 0, 0
  for n = hi, lo, -1 do
    local count = tonumber(s.data[n])
    all = all + count
    local later = above[n + e] or 0
    if n > e then count = count - later end
    if count ~= 0 then
      counts[n] = count
      total = total + count
    end
    if count + later ~= 0 then above[n] = count + later end
  end
  if all ~= tonumber(s.count) then return nil end
  return counts, total
end

-- wrk's own rule (stats_percentile): the first latency whose running count reaches
-- round(p% of all + 0.5).
local function percentile(counts, total, lo, hi, p)
  local rank, seen = math.floor(p / 100 * total + 1), 0
  for n = lo, hi do
    seen = seen + (counts[n] or 0)
    if seen >= rank then return n end
  end
  return hi
end

function done(summary, latency, requests)
  local bad = summary.errors.status
  local lo, hi = latency.min, latency.max
  local counts, total = raw_latencies(latency, summary)
  local raw = function(p)
    return counts and tostring(percentile(counts, total, lo, hi, p)) or "null"
  end
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_timeout": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"raw_p50_us": %s, "raw_p99_us": %s, "max_us": %d, "timed": %s}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, bad, latency:percentile(50),
    latency:percentile(99), raw(50), raw(99), hi, counts and tostring(total) or "null"))
  out:close()
end

-- True for the one call of `request` that wrk makes to check the script, not to send.
function wrk_check()
  if checks_left == 0 then return false end
  checks_left = checks_left - 1
  return true
end

function pick(list)
  return list[math.random(#list)]
end

function bearer()
  return { ["Authorization"] = "Bearer " .. pick(D.tokens) }
end
