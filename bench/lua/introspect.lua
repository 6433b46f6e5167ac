-- POST access tokens to /oauth/introspect with HTTP Basic client credentials, cycling.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup, init = tokens.setup, tokens.init

function request()
  local body = "token=" .. tokens.next() .. "&token_type_hint=access_token"
  return wrk.format("POST", "/oauth/introspect", tokens.form_post_headers(), body)
end
