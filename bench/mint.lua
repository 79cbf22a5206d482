-- wrk script: POST /api/v1/user_credentials/$BENCH_CREDENTIAL/token with an empty body.
function init(args)
  wrk.method = "POST"
  wrk.path = "/api/v1/user_credentials/" .. os.getenv("BENCH_CREDENTIAL") .. "/token"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

function response(status, headers, body)
  if status ~= 200 then
    bad = (bad or 0) + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
