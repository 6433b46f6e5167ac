-- POST a legacy-era MCP tools/call (BENCH_TOOL, no arguments) with the tokens in turn.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local tokens = require("tokens")
setup, init = tokens.setup, tokens.init
local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"'
  .. (os.getenv("BENCH_TOOL") or "getMe") .. '","arguments":{}}}'

function request()
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. tokens.next(),
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2025-11-25",
  }, body)
end
