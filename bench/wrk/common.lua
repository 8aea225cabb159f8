-- Shared by every scenario: loads the seeded data, gives each wrk thread its own random
-- stream and index, and writes the summary. Non-2xx answers are wrk's own count (it counts
-- every status >= 300; no scenario expects a redirect): a Lua `response` callback would have
-- wrk copy every answer's headers and body into Lua, costing CPU the server then lacks.
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

function done(summary, latency, requests)
  local bad = summary.errors.status
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_timeout": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, bad,
    latency:percentile(50), latency:percentile(99)))
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
