-- S3: GET /posts/?search=<word>&limit=10; each word is in about 10% of the titles.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
replay(function()
  return wrk.format("GET", "/posts/?limit=10&search=" .. pick(D.words), bearer())
end)
