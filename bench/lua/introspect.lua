-- POST access tokens to /oauth/introspect with HTTP Basic client credentials, cycling.
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
  n = n % #values + 1
  return wrk.format("POST", "/oauth/introspect", {
    ["Authorization"] = basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "token=" .. values[n] .. "&token_type_hint=access_token")
end
