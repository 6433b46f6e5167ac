-- GET the URL's path with "Authorization: Bearer <token>", cycling through the tokens.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup = tokens.setup

local values, n

function init(args)
  values = tokens.load()
  n = 0
end

function request()
  n = n % #values + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. values[n] })
end
