-- Shared by the scripts: this thread's share of the values in the file named by BENCH_TOKENS.
-- Each wrk thread has its own Lua state; setup() numbers them so that no two threads
-- send the same value (a refresh token works once).
local M = {}
local counter = 0

function M.setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function M.load()
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local values = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i % threads == tid then
      values[#values + 1] = line
    end
    i = i + 1
  end
  return values
end

return M
