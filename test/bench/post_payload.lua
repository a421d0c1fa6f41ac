-- wrk script: POST /api/v0/code-exec exactly as edxapp's client sends it
-- without files: payload=<urlencoded JSON>, form-urlencoded.
wrk.method = "POST"
wrk.path = "/api/v0/code-exec"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "payload=" .. (os.getenv("CJS_BENCH_PAYLOAD_URLENCODED") or
  "%7B%22code%22%3A+%22x+%3D+1+%2B+1%22%2C+%22globals_dict%22%3A+%7B%7D%7D")

-- Count non-200 answers, so a broken service cannot pass for a fast one.
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not body:find('"globals_dict"') then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200 or malformed answers: %d\n", bad))
end
