-- wrk script of test/bench/run: POSTs one prepared request (body and headers
-- exactly as edxapp's python-requests client sends them) and checks every
-- answer byte for byte, so that a broken service cannot pass for a fast one.
--
-- CJS_BENCH_SPEC names a directory holding:
--   body      the request body
--   headers   one "Name: value" line per header (Content-Length is wrk's)
--   expect    the exact 200 body every answer must be
-- done() prints machine-readable "cjs-bench key value" lines.

local spec = os.getenv("CJS_BENCH_SPEC")
if not spec then error("CJS_BENCH_SPEC is not set") end

local function slurp(name)
  local f = assert(io.open(spec .. "/" .. name, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = "POST"
wrk.path = "/api/v0/code-exec"
wrk.body = slurp("body")
for line in slurp("headers"):gmatch("[^\r\n]+") do
  local name, value = line:match("^([^:]+): (.*)$")
  if name and name ~= "Content-Length" and name ~= "Host" then wrk.headers[name] = value end
end
local expected = slurp("expect")

-- Per-thread counters (each wrk thread has its own Lua state); done() sums
-- them through the thread objects setup() collected.
answered, not_ok, wrong, first_wrong = 0, 0, 0, ""

response = function(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    not_ok = not_ok + 1
    if first_wrong == "" then first_wrong = status .. " " .. body:sub(1, 300) end
  elseif body ~= expected then
    wrong = wrong + 1
    if first_wrong == "" then first_wrong = "200 " .. body:sub(1, 300) end
  end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  local totals = { answered = 0, not_ok = 0, wrong = 0 }
  local sample = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do totals[key] = totals[key] + thread:get(key) end
    local w = thread:get("first_wrong")
    if sample == "" and w ~= "" then sample = w end
  end
  local e = summary.errors
  local out = {
    string.format("requests %d", summary.requests),
    string.format("duration_us %d", summary.duration),
    string.format("answered %d", totals.answered),
    string.format("non_200 %d", totals.not_ok),
    string.format("wrong %d", totals.wrong),
    string.format("socket_errors %d", e.connect + e.read + e.write + e.timeout),
    string.format("timeouts %d", e.timeout),
    string.format("latency_min_us %d", latency.min),
    string.format("latency_mean_us %.1f", latency.mean),
    string.format("latency_max_us %d", latency.max),
  }
  for _, p in ipairs({ 50, 90, 99 }) do
    table.insert(out, string.format("p%d_us %d", p, latency:percentile(p)))
  end
  for _, line in ipairs(out) do io.write("cjs-bench " .. line .. "\n") end
  io.write("cjs-bench first_wrong " .. sample:gsub("[\r\n]", " ") .. "\n")
end
