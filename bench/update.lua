-- wrk script: PUT /api/v1/user_credentials/{id} over the ids BENCH_FIRST_ID..BENCH_LAST_ID in
-- turn, each request a new description (a change without a new key, as most updates are).
-- Environment: BENCH_KEY (API key), BENCH_FIRST_ID, BENCH_LAST_ID.
local threads = {}
local counter = 0
local first, last

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  first = tonumber(os.getenv("BENCH_FIRST_ID"))
  last = tonumber(os.getenv("BENCH_LAST_ID"))
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

function request()
  counter = counter + 1
  -- Threads start at different ids, so two connections rarely update one credential at once.
  local span = last - first + 1
  local id = first + ((counter * 7 + tid * math.floor(span / 2)) % span)
  local body = string.format('{"mode":"JWT","description":"update %d %d"}', tid, counter)
  return wrk.format("PUT", "/api/v1/user_credentials/" .. id, nil, body)
end

EXPECTED_STATUS = 200
dofile("bench/report.lua")
