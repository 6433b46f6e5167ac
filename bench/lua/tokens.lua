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

-- The usual wrk hooks: this thread's values, handed out in turn.
local values, n

function M.init(args)
  values = M.load()
  n = 0
end

function M.next()
  -- Past the end the values repeat; for refresh tokens those answers fail, and show as such.
  n = n % #values + 1
  return values[n]
end

function M.form_post_headers()
  return {
    ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
end

return M
