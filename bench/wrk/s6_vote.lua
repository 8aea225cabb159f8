-- S6: POST /vote/, toggling dir 1/0 per (user, post), so every answer should be 201. Each
-- wrk thread owns the posts whose index is congruent to its own, so no two threads touch one
-- pair; a pair the seed voted on starts at dir 0.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local state = {}
local k = 0
function request()
  -- Without this, the pair that wrk's unsent check took would be one toggle ahead of the
  -- server, and its next turn would be answered 404 or 409.
  if wrk_check() then
    return wrk.format("POST", "/vote/", { ["Content-Type"] = "application/json" }, '{"post_id": 1, "dir": 1}')
  end
  -- Walk this thread's (user, post) pairs in order: a pair comes round again only after
  -- every other pair, so with far more pairs than connections two votes on one pair are
  -- never in flight together.
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local users = #D.tokens
  local mine = math.floor((#D.posts - thread_index) / nthreads) + 1
  local pair = k % (users * mine)
  k = k + 1
  local u = pair % users + 1
  local p = thread_index + nthreads * math.floor(pair / users)
  local key = u .. ":" .. p
  local dir = state[key]
  if dir == nil then
    dir = D.voted[D.posts[p] * 100000 + u] and 0 or 1
  end
  state[key] = 1 - dir
  local h = { ["Authorization"] = "Bearer " .. D.tokens[u], ["Content-Type"] = "application/json" }
  local body = string.format('{"post_id": %d, "dir": %d}', D.posts[p], dir)
  return wrk.format("POST", "/vote/", h, body)
end
