-- S5: PUT /posts/{id} on one of the caller's own posts.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local n = 0
function request()
  n = n + 1
  local u = math.random(#D.tokens)
  local h = { ["Authorization"] = "Bearer " .. D.tokens[u], ["Content-Type"] = "application/json" }
  local id = pick(D.own[u])
  local body = string.format('{"title": "edited %d", "content": "edited body", "published": true}', n)
  return wrk.format("PUT", "/posts/" .. id, h, body)
end
