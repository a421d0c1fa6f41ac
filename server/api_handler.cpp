#include "server/api_handler.h"

#include <memory>
#include <new>
#include <optional>
#include <string_view>

#include "common/api_errors.h"
#include "common/json_parse.h"
#include "common/log.h"
#include "common/payload.h"
#include "server/form_body.h"

namespace cjs::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kCodeExecPath = "/api/v0/code-exec";

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// What a code-exec log line needs, kept while the request waits and runs
// instead of the request or its parsed payload.
struct ExecLogInfo {
  std::string request_id;
  std::size_t bytes_in = 0;
  bool checked = false;  // the payload passed checks 4-8; the fields below are set
  std::optional<std::string> slug;
  std::optional<std::string> limit_overrides_context;
  std::size_t python_path_len = 0;
};

// FormData::field() without the copy: the payload is most of the body.
std::optional<std::string> take_field(FormData& form, std::string_view name) {
  for (auto it = form.fields.rbegin(); it != form.fields.rend(); ++it) {
    if (it->first == name) return std::move(it->second);
  }
  return std::nullopt;
}

// The answer when the worker died: the input globals with the machinery
// failure emsg (api.md 3.2). The payload passed checks 4-8 before, so it
// parses again; this is rare, which is why nobody keeps the parsed DOM.
std::string machinery_failure_body(std::string_view payload_text) {
  // Uploaded file names passed check 7 already; only the JSON matters.
  PayloadCheck check = check_payload(payload_text, {});
  return execution_error_body(check.payload ? check.payload->globals : json::Value(json::Object{}),
                              kMachineryFailureEmsg);
}

// One line per code-exec request (never the code itself).
void log_request(const ExecLogInfo& info, int status, const std::string& exec_status,
                 double seconds, std::size_t bytes_out, const protocol::Response* response,
                 std::optional<double> queue_seconds) {
  log::Fields fields{{"request_id", info.request_id},
                     {"status", log::number(static_cast<long long>(status))},
                     {"codejail.exec.status", exec_status},
                     {"duration_ms", log::number(seconds * 1000)},
                     {"bytes_in", log::number(static_cast<long long>(info.bytes_in))},
                     {"bytes_out", log::number(static_cast<long long>(bytes_out))}};
  if (info.checked) {
    fields.emplace_back("slug", info.slug ? json::Value(*info.slug) : json::Value());
    fields.emplace_back("limit_override", info.limit_overrides_context
                                              ? json::Value(*info.limit_overrides_context)
                                              : json::Value());
    fields.emplace_back("python_path_len",
                        log::number(static_cast<long long>(info.python_path_len)));
  }
  // Every request that reached the queue, however it left it.
  if (queue_seconds) fields.emplace_back("queue_ms", log::number(*queue_seconds * 1000));
  if (response != nullptr) {
    fields.emplace_back("sandbox_ms", log::number(response->summary.wall_seconds * 1000));
    if (response->summary.sandbox_status) {
      // Whether the interpreter had started before the request came.
      fields.emplace_back("start", response->summary.warm_start ? "warm" : "cold");
    }
    if (response->summary.sandbox_status) {
      fields.emplace_back("sandbox_status",
                          log::number(static_cast<long long>(*response->summary.sandbox_status)));
    }
    if (response->summary.stdout_truncated || response->summary.stderr_truncated) {
      fields.emplace_back("output_truncated", true);
    }
    if (!response->summary.failure.empty()) {
      fields.emplace_back("failure", response->summary.failure);
    }
  }
  log::info("code-exec", fields);
}

// The body, as the REST framework parses it: an empty body is no data. An
// unsupported or malformed body is answered here (415/400) and gives none.
std::optional<FormData> parse_body(const ApiRequest& request, Metrics& metrics,
                                   const ApiHandler::Respond& respond) {
  if (request.body.empty()) return FormData{};
  const std::string type = media_type(request.content_type);
  FormParse parsed;
  if (type == "application/x-www-form-urlencoded") {
    parsed = parse_urlencoded(request.body, request.content_type);
  } else if (type == "multipart/form-data") {
    parsed = parse_multipart(request.content_type, request.body);
  } else {
    metrics.record_rejected("unsupported_media_type");
    respond(detail_response(415,
                            "Unsupported media type \"" + request.content_type + "\" in request."));
    return std::nullopt;
  }
  if (!parsed.data) {
    metrics.record_rejected("malformed_body");
    respond(detail_response(400, parsed.error.detail));
    return std::nullopt;
  }
  return std::move(*parsed.data);
}

// Checks 4-8. The DOM costs ~48 bytes per JSON element: keep only what the
// log line needs, and drop the rest before the request waits in the queue.
// Returns the error of a payload that failed.
std::optional<PayloadError> check_for_log(const std::string& payload_text,
                                          const std::vector<UploadedFile>& files,
                                          ExecLogInfo& info) {
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.name);
  PayloadCheck check = check_payload(payload_text, names);
  if (!check.payload) {
    if (!check.error.log_line.empty()) log::info(check.error.log_line);
    return std::move(check.error);
  }
  info.checked = true;
  // The request names these: the log line gets them capped, and a queued
  // request keeps no more of them than that.
  if (check.payload->slug) info.slug = log::request_text(*check.payload->slug);
  if (check.payload->limit_overrides_context) {
    info.limit_overrides_context = log::request_text(*check.payload->limit_overrides_context);
  }
  info.python_path_len = check.payload->python_path.size();
  return std::nullopt;
}

// The HTTP answer to what the pool did with a request, and its exec status
// for the log line and the metrics. Out of memory answers 503.
ApiResponse answer_outcome(PoolOutcome& outcome, Metrics& metrics, std::string& exec_status) {
  ApiResponse r;
  try {
    switch (outcome.kind) {
      case PoolOutcome::kAnswered:
        r = json_response(200, std::move(outcome.response.summary.body));
        exec_status = outcome.response.summary.telemetry_status;
        break;
      case PoolOutcome::kWorkerDied:
        // Never a hang or a reset: the documented machinery-failure answer.
        r = json_response(200, machinery_failure_body(outcome.payload_text));
        exec_status = "executed.error";
        break;
      case PoolOutcome::kQueueFull:
      case PoolOutcome::kQueueTimeout:
        metrics.record_rejected(outcome.kind == PoolOutcome::kQueueFull ? "queue_full"
                                                                        : "queue_timeout");
        r = retry_later_response("Codejail service is overloaded; retry later");
        exec_status = "overloaded";
        break;
      case PoolOutcome::kClientGone:
        // Nobody reads this answer; it only completes the request.
        metrics.record_rejected("client_closed");
        r = retry_later_response("Client closed the connection; the request was not run");
        exec_status = "client_closed";
        break;
      case PoolOutcome::kNoMemory:
        metrics.record_rejected("out_of_memory");
        r = out_of_memory_response();
        exec_status = "overloaded";
        break;
    }
  } catch (const std::bad_alloc&) {
    metrics.record_rejected("out_of_memory");
    r = out_of_memory_response();
    exec_status = "overloaded";
  }
  return r;
}

}  // namespace

ApiHandler::ApiHandler(const Config& config, const ServiceState& state, WorkerPool& pool,
                       Metrics& metrics)
    : config_(config), state_(state), pool_(pool), metrics_(metrics) {}

void ApiHandler::handle(ApiRequest request, Respond respond_raw) {
  // At most once: an exception can interrupt a request after it answered.
  auto answered = std::make_shared<bool>(false);
  auto respond = [this, answered, respond_raw = std::move(respond_raw)](ApiResponse r) {
    if (*answered) return;
    *answered = true;
    metrics_.record_http_status(r.status);
    respond_raw(std::move(r));
  };
  const std::string request_id = request.request_id;
  try {
    route(std::move(request), respond);
  } catch (const std::bad_alloc&) {
    // A large body (form fields, the payload's JSON DOM) can exhaust the
    // acceptor's memory; only that request fails. Answer before logging,
    // which allocates too.
    if (!*answered) {
      metrics_.record_rejected("out_of_memory");
      respond(out_of_memory_response());
    }
    log::error("out of memory while handling a request", {{"request_id", request_id}});
  }
}

void ApiHandler::route(ApiRequest request, const Respond& respond) {
  const std::string path = path_of(request.target);
  if (path == "/health/") {
    // Health reflects the probes and whether executions keep failing for
    // machinery reasons, not the enable switch (api.md 1).
    respond(state_.probes_passed && !state_.draining && health_.healthy()
                ? json_response(200, R"({"status": "OK"})")
                : json_response(503, R"({"status": "UNAVAILABLE"})"));
    return;
  }
  if (path == "/health") {
    ApiResponse r;
    r.status = 301;
    r.content_type = "";
    r.headers.emplace_back("Location", "/health/");
    respond(std::move(r));
    return;
  }
  if (path == "/metrics" && request.method == "GET") {
    ApiResponse r = json_response(200, metrics_.render());
    r.content_type = "text/plain; version=0.0.4";
    respond(std::move(r));
    return;
  }
  if (path != kCodeExecPath) {
    respond(detail_response(404, "Not found."));
    return;
  }
  if (request.method == "OPTIONS") {
    ApiResponse r = json_response(
        200,
        R"({"name":"Code Exec","description":"Execute code in a sandbox.","renders":["application/json"],"parses":["application/x-www-form-urlencoded","multipart/form-data"]})");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    respond(std::move(r));
    return;
  }
  if (request.method != "POST") {
    ApiResponse r = request.method == "HEAD"
                        ? json_response(405, "")
                        : detail_response(405, "Method \"" + request.method + "\" not allowed.");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    respond(std::move(r));
    return;
  }
  code_exec(std::move(request), respond);
}

void ApiHandler::record_health(const PoolOutcome& outcome) {
  bool machinery_failed;
  if (outcome.kind == PoolOutcome::kAnswered) {
    machinery_failed = !outcome.response.summary.failure.empty();
  } else if (outcome.kind == PoolOutcome::kWorkerDied) {
    machinery_failed = true;
  } else {
    return;  // never reached a worker: says nothing about executions
  }
  if (!health_.record(machinery_failed)) return;
  if (health_.healthy()) {
    log::info("executions work again: /health/ answers 200");
  } else {
    log::error(
        "executions keep failing for machinery reasons: /health/ answers 503",
        {{"in_a_row", log::number(static_cast<long long>(ExecutionHealth::kUnhealthyAfter))}});
  }
}

void ApiHandler::code_exec(ApiRequest request, const Respond& respond) {
  const auto started = Clock::now();
  ExecLogInfo info;
  info.request_id = request.request_id;
  info.bytes_in = request.body.size();
  auto refuse = [&](int status, std::string_view message, const std::string& exec_status) {
    ApiResponse r = json_response(status, error_body(message));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    metrics_.record_request(exec_status, seconds);
    log_request(info, status, exec_status, seconds, r.body.size(), nullptr, std::nullopt);
    respond(std::move(r));
  };

  // Checks 1 and 2 come before the body is even parsed.
  if (!config_.enabled) return refuse(500, kNotEnabledMessage, "disabled.feature_switch");
  if (!state_.probes_passed) {
    return refuse(500, kNotConfiguredMessage, "disabled.safety_checks_failed");
  }

  std::optional<FormData> parsed = parse_body(request, metrics_, respond);
  if (!parsed) return;
  FormData form = std::move(*parsed);
  // The form holds everything from here on; a queued request must not also
  // keep its raw body (swap: clear() keeps the capacity).
  std::string().swap(request.body);

  // Check 3. A `payload` sent as a file part is missing as a field too.
  std::optional<std::string> payload_text = take_field(form, "payload");
  form.fields = {};
  if (!payload_text) return refuse(400, kMissingPayloadMessage, "invalid.payload.missing");

  if (std::optional<PayloadError> error = check_for_log(*payload_text, form.files, info)) {
    return refuse(error->http_status, error->message, error->telemetry_status);
  }

  protocol::Request work;
  work.id = next_id_++;
  // The pool keeps the payload text until the answer and hands it back if
  // the worker dies (PoolOutcome::payload_text): the only copy.
  work.payload_text = std::move(*payload_text);
  work.files = std::move(form.files);
  work.log_code = config_.log_code;

  pool_.submit(
      std::move(work),
      [this, info = std::move(info), started, respond](PoolOutcome outcome) {
        record_health(outcome);
        std::string exec_status;
        ApiResponse r = answer_outcome(outcome, metrics_, exec_status);
        const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        try {
          metrics_.record_request(exec_status, seconds);
          if (outcome.kind == PoolOutcome::kAnswered) {
            metrics_.record_execution(outcome.response.summary);
          }
          log_request(info, r.status, exec_status, seconds, r.body.size(),
                      outcome.kind == PoolOutcome::kAnswered ? &outcome.response : nullptr,
                      outcome.kind == PoolOutcome::kQueueFull
                          ? std::nullopt
                          : std::optional<double>(outcome.queue_seconds));
        } catch (const std::bad_alloc&) {
          // The answer matters more than its log line.
        }
        respond(std::move(r));
      },
      std::move(request.client_gone));
}

}  // namespace cjs::server
