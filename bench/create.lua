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

EXPECTED_STATUS = 201
dofile("bench/report.lua")
