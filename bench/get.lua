-- wrk script: GET $BENCH_PATH without an API key (public endpoints, /healthz).
function init(args)
  wrk.method = "GET"
  wrk.path = os.getenv("BENCH_PATH")
end

EXPECTED_STATUS = 200
dofile("bench/report.lua")
