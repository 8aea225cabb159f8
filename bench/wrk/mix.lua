-- The mix of bench/mixed.sh, closed loop (its maximum): each request drawn by weight from
-- reads (S1 a post, S2 a page, S3 a search), votes toggled per (user, post) as S6's script
-- does (this thread's posts, pairs walked in order), and creates. The weights come from
-- BENCH_MIX, e.g. "s1=26.67 s2=26.67 s3=26.66 vote=15 create=5" (percent).
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local kinds, cumulative, total = {}, {}, 0
for name, weight in string.gmatch(os.getenv("BENCH_MIX"), "(%w+)=([%d.]+)") do
  total = total + tonumber(weight)
  table.insert(kinds, name)
  table.insert(cumulative, total)
end
local state, k, n = {}, 0, 0

local function vote()
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
  return wrk.format("POST", "/vote/", h, string.format('{"post_id": %d, "dir": %d}', D.posts[p], dir))
end

function request()
  -- wrk's unsent check request (see common.lua) must not take a vote's turn.
  if wrk_check() then
    return wrk.format("GET", "/posts/" .. D.posts[1], bearer())
  end
  local x, kind = math.random() * total, kinds[#kinds]
  for i, c in ipairs(cumulative) do
    if x < c then kind = kinds[i]; break end
  end
  if kind == "s1" then
    return wrk.format("GET", "/posts/" .. pick(D.posts), bearer())
  elseif kind == "s2" then
    return wrk.format("GET", "/posts/?limit=10&skip=" .. math.random(0, math.max(0, #D.posts - 10)), bearer())
  elseif kind == "s3" then
    return wrk.format("GET", "/posts/?limit=10&search=" .. pick(D.words), bearer())
  elseif kind == "vote" then
    return vote()
  else
    n = n + 1
    local h = bearer()
    h["Content-Type"] = "application/json"
    local body = string.format('{"title": "mix %d-%d", "content": "load test body"}', thread_index, n)
    return wrk.format("POST", "/posts/", h, body)
  end
end
