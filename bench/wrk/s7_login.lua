-- S7: POST /login with a seeded user's email and password.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
function request()
  local email = pick(D.emails):gsub("@", "%%40")
  local body = "username=" .. email .. "&password=" .. D.password:gsub(" ", "+")
  return wrk.format("POST", "/login", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
