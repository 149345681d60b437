-- wrk script: OCPI token pushes eMSP NL*EMA -> CPO NL*CPA with every OCPI routing header,
-- a unique X-Request-ID per request (a repeated one would be recorded as a retry), 1000 token
-- uids in turn (the saturation pass; the latency pass is bench/paced.py).
local token = os.getenv("BENCH_AUTH") or "Token none"
local prefix = os.getenv("BENCH_PREFIX") or "/ocpi/2.2.1/tokens/receiver/NL/EMA/"
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  run_id = string.format("%x%04x", os.time(), math.random(0, 65535))
end

local body = '{"country_code":"NL","party_id":"EMA","uid":"%s","type":"RFID",' ..
  '"contract_id":"NL-EMA-C12345678-X","issuer":"Bench eMSP","valid":true,' ..
  '"whitelist":"ALLOWED","last_updated":"2024-01-01T00:00:00Z"}'

function request()
  counter = counter + 1
  local uid = string.format("U%04d", counter % 1000)
  local headers = {
    ["Authorization"] = token,
    ["Content-Type"] = "application/json",
    ["X-Request-ID"] = string.format("%s-%d-%d", run_id, thread_id, counter),
    ["X-Correlation-ID"] = string.format("c-%s-%d-%d", run_id, thread_id, counter),
    ["OCPI-from-country-code"] = "NL",
    ["OCPI-from-party-id"] = "EMA",
    ["OCPI-to-country-code"] = "NL",
    ["OCPI-to-party-id"] = "CPA",
  }
  return wrk.format("PUT", prefix .. uid, headers, string.format(body, uid))
end

local bad = 0
function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"status_code":1000', 1, true) then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected answer ", status, " ", body, "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"non2xx\":%d," ..
    "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
