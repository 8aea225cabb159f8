-- S1: GET /posts/{id} as a random user.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
function request()
  return wrk.format("GET", "/posts/" .. pick(D.posts), bearer())
end
