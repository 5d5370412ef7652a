-- wrk script for bench/run: cycles through the requests in $BENCH_DATA (a Lua table written by the
-- runner), each thread taking every n-th item so threads never share an order. With
-- BENCH_IDEMPOTENT=1 every request carries a fresh Idempotency-Key; with BENCH_ALTERNATE=1 each item
-- alternates between its two requests (a move, then the move back).

local items = dofile(os.getenv("BENCH_DATA"))
local idempotent = os.getenv("BENCH_IDEMPOTENT") == "1"
local alternate = os.getenv("BENCH_ALTERNATE") == "1"
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local n, counter, flipped = 0, 0, {}
-- wrk calls the first thread's request() once to check the script and never sends what it
-- returns: that call must move nothing on (it used to flip an order's next move, and that thread
-- then sent a move back first, refused: the one error of every transition run).
local checking = false

function init(args)
  n = tonumber(os.getenv("BENCH_THREADS") or "2")
  counter = tid
  checking = tid == 0
  math.randomseed(os.time() + tid * 7919)
end

function request()
  if checking then
    checking = false
    return wrk.format(items[1].method, items[1].path, {}, items[1].body)
  end
  local i = (counter % #items) + 1
  counter = counter + n
  local item = items[i]
  local token, body = item.token, item.body
  if alternate then
    if flipped[i] then token, body = item.token2, item.body2 end
    flipped[i] = not flipped[i]
  end
  local headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  if body then headers["Content-Type"] = "application/json" end
  if idempotent then
    headers["Idempotency-Key"] = string.format("wrk-%d-%d-%d", tid, counter, math.random(1, 1000000000))
  end
  return wrk.format(item.method, item.path, headers, body)
end

-- A refused move is a benchmark error: say what the server answered, so it can be told apart from
-- an overloaded server (the alternating moves are the only scenario whose requests depend on order).
if alternate then
  function response(status, headers, body)
    if status >= 300 then
      io.stderr:write(string.format("wrk: %d %s\n", status, body))
    end
  end
end
