-- S4: POST /posts/ as a random user.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = 0
function request()
  n = n + 1
  local h = bearer()
  h["Content-Type"] = "application/json"
  local body = string.format('{"title": "bench %d-%d", "content": "load test body"}', thread_index, n)
  return wrk.format("POST", "/posts/", h, body)
end
