-- wrk script: POST /api/v1/user_credentials with a unique name per request.
-- Environment: BENCH_BODY_FILE (a JSON body with the placeholder __NAME__), BENCH_KEY (API key).
local threads = {}
local counter = 0
local template

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "r"))
  template = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

function request()
  counter = counter + 1
  local name = string.format("bench %s %d %d", os.getenv("BENCH_RUN") or "", tid, counter)
  local body = template:gsub("__NAME__", name)
  return wrk.format("POST", "/api/v1/user_credentials", nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = (bad or 0) + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
