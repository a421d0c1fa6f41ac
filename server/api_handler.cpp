#include "server/api_handler.h"

#include <memory>

#include "common/api_errors.h"
#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/log.h"
#include "common/payload.h"
#include "server/form_body.h"

namespace cjs::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kCodeExecPath = "/api/v0/code-exec";

ApiResponse json_response(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// {"detail":"..."}: the REST framework's spelling for its own errors.
ApiResponse detail(int status, std::string_view text) {
  return json_response(status, "{\"detail\":" + json::quote_api(text) + "}");
}

std::string path_of(const std::string& target) {
  return target.substr(0, target.find('?'));
}

// One line per code-exec request (never the code itself).
void log_request(const ApiRequest& request, int status, const std::string& exec_status,
                 const std::optional<ExecPayload>& payload, double seconds,
                 std::size_t bytes_out, const protocol::Response* response,
                 double queue_seconds) {
  log::Fields fields{{"request_id", request.request_id},
                     {"status", log::number(static_cast<long long>(status))},
                     {"codejail.exec.status", exec_status},
                     {"duration_ms", log::number(seconds * 1000)},
                     {"bytes_in", log::number(static_cast<long long>(request.body_bytes))},
                     {"bytes_out", log::number(static_cast<long long>(bytes_out))}};
  if (payload) {
    fields.emplace_back("slug", payload->slug ? json::Value(*payload->slug) : json::Value());
    fields.emplace_back("limit_override", payload->limit_overrides_context
                                              ? json::Value(*payload->limit_overrides_context)
                                              : json::Value());
    fields.emplace_back("python_path_len",
                        log::number(static_cast<long long>(payload->python_path.size())));
  }
  if (response != nullptr) {
    fields.emplace_back("queue_ms", log::number(queue_seconds * 1000));
    fields.emplace_back("sandbox_ms", log::number(response->wall_seconds * 1000));
    if (response->has_sandbox_status) {
      fields.emplace_back("sandbox_status",
                          log::number(static_cast<long long>(response->sandbox_status)));
    }
    if (response->stdout_truncated || response->stderr_truncated) {
      fields.emplace_back("output_truncated", true);
    }
    if (!response->failure.empty()) fields.emplace_back("failure", response->failure);
  }
  log::info("code-exec", fields);
}

}  // namespace

ApiHandler::ApiHandler(const Config& config, const ServiceState& state, WorkerPool& pool,
                       Metrics& metrics)
    : config_(config), state_(state), pool_(pool), metrics_(metrics) {}

void ApiHandler::handle(ApiRequest request, std::function<void(ApiResponse)> respond_raw) {
  auto respond = [this, respond_raw = std::move(respond_raw)](ApiResponse r) {
    metrics_.record_http_status(r.status);
    respond_raw(std::move(r));
  };
  const std::string path = path_of(request.target);
  if (path == "/health/") {
    // Health reflects the probes only, not the enable switch (api.md 1).
    respond(state_.probes_passed && !state_.draining
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
    respond(detail(404, "Not found."));
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
                        : detail(405, "Method \"" + request.method + "\" not allowed.");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    respond(std::move(r));
    return;
  }
  code_exec(std::move(request), std::move(respond));
}

void ApiHandler::code_exec(ApiRequest request, std::function<void(ApiResponse)> respond) {
  const auto started = Clock::now();
  request.body_bytes = request.body.size();
  auto refuse = [&](int status, std::string_view message, const std::string& exec_status,
                    const std::optional<ExecPayload>& payload = std::nullopt) {
    ApiResponse r = json_response(status, error_body(message));
    metrics_.record_request(exec_status, std::chrono::duration<double>(Clock::now() - started).count());
    log_request(request, status, exec_status, payload,
                std::chrono::duration<double>(Clock::now() - started).count(), r.body.size(),
                nullptr, 0);
    respond(std::move(r));
  };

  // Checks 1 and 2 come before the body is even parsed.
  if (!config_.enabled) return refuse(500, kNotEnabledMessage, "disabled.feature_switch");
  if (!state_.probes_passed) {
    return refuse(500, kNotConfiguredMessage, "disabled.safety_checks_failed");
  }

  // The body, as the REST framework parses it: an empty body is no data.
  FormData form;
  if (!request.body.empty()) {
    const std::string type = media_type(request.content_type);
    FormParse parsed;
    if (type == "application/x-www-form-urlencoded") {
      parsed = parse_urlencoded(request.body);
    } else if (type == "multipart/form-data") {
      parsed = parse_multipart(request.content_type, request.body);
    } else {
      metrics_.record_rejected("unsupported_media_type");
      respond(detail(415, "Unsupported media type \"" + request.content_type + "\" in request."));
      return;
    }
    if (!parsed.data) {
      metrics_.record_rejected("malformed_body");
      respond(detail(400, parsed.error.detail));
      return;
    }
    form = std::move(*parsed.data);
  }

  // Check 3. A `payload` sent as a file part is missing as a field too.
  std::optional<std::string> payload_text = form.field("payload");
  if (!payload_text) return refuse(400, kMissingPayloadMessage, "invalid.payload.missing");

  std::vector<std::string> names;
  for (const auto& file : form.files) names.push_back(file.name);
  PayloadCheck check = check_payload(*payload_text, names);  // checks 4-8
  if (!check.payload) {
    if (!check.error.log_line.empty()) log::info(check.error.log_line);
    return refuse(check.error.http_status, check.error.message, check.error.telemetry_status);
  }

  protocol::Request work;
  work.id = next_id_++;
  work.payload_text = std::move(*payload_text);
  for (auto& file : form.files) work.files.emplace_back(std::move(file.name), std::move(file.content));
  work.log_code = config_.log_code;

  auto payload = std::make_shared<ExecPayload>(std::move(*check.payload));
  auto shared_request = std::make_shared<ApiRequest>(std::move(request));
  shared_request->body.clear();  // keep only what logging needs
  pool_.submit(std::move(work), [this, payload, shared_request, started,
                                 respond = std::move(respond)](PoolOutcome outcome) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    ApiResponse r;
    std::string exec_status;
    switch (outcome.kind) {
      case PoolOutcome::kAnswered:
        r = json_response(200, std::move(outcome.response.body));
        exec_status = outcome.response.telemetry_status;
        break;
      case PoolOutcome::kWorkerDied:
        // Never a hang or a reset: the documented machinery-failure answer.
        r = json_response(200, execution_error_body(payload->globals, kMachineryFailureEmsg));
        exec_status = "executed.error";
        break;
      case PoolOutcome::kQueueFull:
      case PoolOutcome::kQueueTimeout:
        metrics_.record_rejected(outcome.kind == PoolOutcome::kQueueFull ? "queue_full"
                                                                         : "queue_timeout");
        r = json_response(503, error_body("Codejail service is overloaded; retry later"));
        r.headers.emplace_back("Retry-After", "1");
        exec_status = "overloaded";
        break;
    }
    metrics_.record_request(exec_status, seconds);
    log_request(*shared_request, r.status, exec_status, *payload, seconds, r.body.size(),
                outcome.kind == PoolOutcome::kAnswered ? &outcome.response : nullptr,
                outcome.queue_seconds);
    respond(std::move(r));
  });
}

}  // namespace cjs::server
