-- POST refresh-token grants to /oauth/token with HTTP Basic client credentials. Every grant
-- retires the token it presents, so each value is sent once; the pool is sized for the run.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup, init = tokens.setup, tokens.init

function request()
  local body = "grant_type=refresh_token&refresh_token=" .. tokens.next()
  return wrk.format("POST", "/oauth/token", tokens.form_post_headers(), body)
end
