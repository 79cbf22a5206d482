-- wrk script: POST /api/v1/user_credentials/$BENCH_CREDENTIAL/token with an empty body.
function init(args)
  wrk.method = "POST"
  wrk.path = "/api/v1/user_credentials/" .. os.getenv("BENCH_CREDENTIAL") .. "/token"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

EXPECTED_STATUS = 200
dofile("bench/report.lua")
