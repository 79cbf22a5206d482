-- wrk script for bench/limits.sh. Environment:
--   BENCH_METHOD (default GET), BENCH_PATH (default /healthz), BENCH_STATUS (expected, default 200),
--   BENCH_BODY_FILE (optional JSON body; each __NAME__ in it becomes a unique name per request,
--   prefixed by BENCH_RUN), BENCH_KEY (sent as a bearer key, except to /healthz).
-- Prints one RESULT line in bench/report.lua's format, plus max_ms, the count of unexpected
-- statuses, and wrk's socket errors and timeouts (timed-out requests have no latency, so a run
-- of slow requests needs a long --timeout).
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local method, path, headers, body, fixed
local counter = 0
local expected = tonumber(os.getenv("BENCH_STATUS") or "200")
unexpected = 0

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  path = os.getenv("BENCH_PATH") or "/healthz"
  headers = {}
  local file = os.getenv("BENCH_BODY_FILE")
  if file and file ~= "" then
    local f = assert(io.open(file, "r"))
    body = f:read("*a")
    f:close()
    headers["Content-Type"] = "application/json"
  end
  if path ~= "/healthz" then
    headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
  end
  if not (body and body:find("__NAME__", 1, true)) then
    fixed = wrk.format(method, path, headers, body)
  end
end

function request()
  if fixed then return fixed end
  counter = counter + 1
  local name = string.format("limits %s %d %d", os.getenv("BENCH_RUN") or "", tid, counter)
  return wrk.format(method, path, headers, (body:gsub("__NAME__", name)))
end

function response(status, hdrs, text)
  if status ~= expected then
    unexpected = unexpected + 1
    if unexpected <= 3 then
      io.stderr:write("unexpected status " .. status .. ": " .. text:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("unexpected") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f non2xx=%d p50_ms=%.2f " ..
    "p99_ms=%.2f max_ms=%.2f unexpected=%d socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    bad, e.connect + e.read + e.write, e.timeout))
end
