-- S2: GET /posts/?limit=10&skip=<random> as a random user.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
replay(function()
  local skip = math.random(0, math.max(0, #D.posts - 10))
  return wrk.format("GET", "/posts/?limit=10&skip=" .. skip, bearer())
end)
