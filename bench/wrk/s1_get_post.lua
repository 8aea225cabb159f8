-- S1: GET /posts/{id} as a random user.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
replay(function()
  return wrk.format("GET", "/posts/" .. pick(D.posts), bearer())
end)
