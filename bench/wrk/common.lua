-- Shared by every scenario: loads the seeded data, gives each wrk thread its own random
-- stream and index, and counts non-2xx answers.
local data = dofile(os.getenv("BENCH_DATA"))
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + thread_index)
  non2xx = 0
  D = data
  if scenario_init then scenario_init() end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
  end
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_timeout": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, bad,
    latency:percentile(50), latency:percentile(99)))
  out:close()
end

function pick(list)
  return list[math.random(#list)]
end

function bearer()
  return { ["Authorization"] = "Bearer " .. pick(D.tokens) }
end
