-- bench/axon.lua: wrk script for bench/axon (axon.sh).
--
--   wrk -t T -c C -d D -s bench/axon.lua URL -- PREFIX MODE LABEL T
--
-- Thread k (in setup order) loads PREFIX.k, the requests axon_gen wrote
-- for it ("<length>\n<bytes>" each, pre-signed, nonces unique), and hands
-- each out once, in order. MODE "once" (the axon): a thread that runs out
-- stops and says so (the run is then void: more requests are needed);
-- MODE "cycle" (nginx, which checks nothing): it starts over. Status
-- codes other than 200 are counted in response() (wrk then parses every
-- response for the script, the same work for both targets).
--
-- wrk runs init() for thread k in its main thread after starting threads
-- 0..k-1 and before its clock starts: loading 100k requests takes ~0.5 s,
-- during which thread 0 would send requests counted in the rate but not in
-- the time. So the last thread's init() writes PREFIX.ready, and every
-- thread's first request() waits for that file. done()
-- prints one line:
--   wrk LABEL <req/s> <p50 us> <p99 us> <requests> <non-200> <errors>
--       <exhausted threads> <loaded requests> <bytes per response> <statuses>
-- where errors = connect + read + write + timeout and statuses lists the
-- non-200 codes as code:count,...

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local prefix, mode = args[1], args[2]
  label = args[3] or "-"
  local nthreads = tonumber(args[4]) or 1
  local f = assert(io.open(prefix .. "." .. id, "rb"))
  reqs = {}
  while true do
    local len = f:read("*n")
    if not len then break end
    f:read(1) -- the newline
    reqs[#reqs + 1] = f:read(len)
  end
  f:close()
  n, i, cycle = #reqs, 0, mode == "cycle"
  exhausted, bad, statuses = 0, 0, {}
  assert(n > 0, "no requests in " .. prefix .. "." .. id)
  ready = prefix .. ".ready"
  if id == nthreads - 1 then
    assert(io.open(ready, "w")):close()
  end
  waiting = true
  -- wrk calls thread 0's request() once from its main thread, right after
  -- this init(), to count pipelined requests: answer that call with the
  -- first request without handing it out (and without waiting)
  counting = id == 0
end

local ok, ffi = pcall(require, "ffi")
if ok then
  pcall(ffi.cdef, "int usleep(unsigned int usec);")
end

local function wait_ready()
  while true do
    local f = io.open(ready, "r")
    if f then
      f:close()
      return
    end
    if ok then
      ffi.C.usleep(1000)
    end
  end
end

function request()
  if counting then
    counting = false
    return reqs[1]
  end
  if waiting then
    wait_ready()
    waiting = false
  end
  i = i + 1
  if i > n then
    if cycle then
      i = 1
    else
      i = n
      exhausted = 1
      wrk.thread:stop()
    end
  end
  return reqs[i]
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad_total, exhausted_total, loaded, codes = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    exhausted_total = exhausted_total + t:get("exhausted")
    loaded = loaded + t:get("n")
    for code, count in pairs(t:get("statuses")) do
      codes[code] = (codes[code] or 0) + count
    end
  end
  local list = {}
  for code, count in pairs(codes) do
    list[#list + 1] = code .. ":" .. count
  end
  local e = summary.errors
  local label = threads[1] and threads[1]:get("label") or "-"
  io.write(string.format("wrk %s %.1f %d %d %d %d %d %d %d %.0f %s\n", label,
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), summary.requests, bad_total,
    e.connect + e.read + e.write + e.timeout, exhausted_total, loaded,
    summary.requests > 0 and summary.bytes / summary.requests or 0,
    #list > 0 and table.concat(list, ",") or "-"))
end
