-- S8: POST /users/ with a fresh email each time.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = 0
local run = os.time()
function request()
  n = n + 1
  local body = string.format('{"email": "new-%d-%d-%d@example.com", "password": "bench password 1"}', run, thread_index, n)
  return wrk.format("POST", "/users/", { ["Content-Type"] = "application/json" }, body)
end
