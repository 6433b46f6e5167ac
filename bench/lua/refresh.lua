-- POST refresh-token grants to /oauth/token with HTTP Basic client credentials. Every grant
-- retires the token it presents, so each value is sent once; the pool is sized for the run.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup = tokens.setup

local values, n, basic

function init(args)
  values = tokens.load()
  n = 0
  basic = "Basic " .. os.getenv("BENCH_BASIC")
end

function request()
  -- Past the end of the pool the values repeat: those answers are 400s and show as failures.
  n = n % #values + 1
  return wrk.format("POST", "/oauth/token", {
    ["Authorization"] = basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. values[n])
end
