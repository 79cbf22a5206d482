-- Shared by the wrk scripts (dofile'd): counts unexpected statuses and prints one RESULT line
-- that the bench scripts parse. EXPECTED_STATUS is set by the including script.
function response(status, headers, body)
  if status ~= EXPECTED_STATUS then
    bad = (bad or 0) + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
