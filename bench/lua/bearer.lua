-- GET the URL's path with "Authorization: Bearer <token>", cycling through the tokens.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup, init = tokens.setup, tokens.init

function request()
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens.next() })
end
