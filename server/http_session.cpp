#include "server/http_session.h"

#include <sys/socket.h>

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>

#include "common/log.h"
#include "server/acceptor/rate_limited_warning.h"
#include "server/http_framing.h"

namespace cjs::server {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr std::size_t kDiscardBufferBytes = 64 * 1024;
constexpr std::size_t kBodyReadChunkBytes = 64 * 1024;

// 503: the bodies being received already hold max_buffered_body_bytes.
ApiResponse bodies_over_budget_response() {
  ApiResponse r = detail_response(503, "Too many request bodies in progress; retry later");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

std::uint64_t next_session_id() {
  static std::uint64_t counter = 0;
  return ++counter;
}
}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, ApiHandler& handler,
                         const SessionLimits& limits, std::function<void()> on_close)
    : stream_(std::move(socket)),
      handler_(handler),
      limits_(limits),
      on_close_(std::move(on_close)),
      body_budget_(limits.body_budget),
      id_(next_session_id()) {}

HttpSession::~HttpSession() {
  release_body();
  if (on_close_) on_close_();
}

void HttpSession::start() { read_header(); }

void HttpSession::stop_after_current() {
  stopping_ = true;
  if (!busy_) close();  // idle keep-alive connection: nothing to finish
}

void HttpSession::read_header() {
  if (stopping_) return close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser_->body_limit(limits_.max_body_bytes);
  // The first request gets the header timeout; later ones the idle timeout,
  // which also bounds how long a quiet keep-alive connection lives.
  stream_.expires_after(requests_ == 0 ? limits_.header_timeout : limits_.idle_timeout);
  busy_ = false;
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::on_header(beast::error_code ec) {
  busy_ = true;
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof) {
    return close();
  }
  if (ec == http::error::header_limit)
    return reply_error(detail_response(431, "Request header fields too large"));
  // Beast refuses a Content-Length over the body limit while parsing the header.
  if (ec == http::error::body_limit)
    return reply_error(detail_response(413, "Request body too large"));
  if (ec) return reply_error(detail_response(400, "Malformed HTTP request"));
  const auto& header = parser_->get();
  // Framing Beast would read otherwise than a proxy in front of us could
  // (RFC 9112 6.3): its body would be parsed as the next request. Closing
  // after the answer leaves nothing to smuggle.
  if (!request_framing_is_supported(header))
    return reply_error(detail_response(400, "Malformed HTTP request"));
  std::size_t fields = static_cast<std::size_t>(std::distance(header.begin(), header.end()));
  if (fields > limits_.max_header_fields) {
    return reply_error(detail_response(431, "Request header fields too large"));
  }
  if (parser_->content_length() && *parser_->content_length() > limits_.max_body_bytes) {
    return reply_error(detail_response(413, "Request body too large"));
  }
  if (parser_->content_length() && !reserve_body(*parser_->content_length())) {
    return reply_error(bodies_over_budget_response());
  }
  if (parser_->content_length()) {
    // Beast reserves this much when the body starts, where a failure could
    // only abort the connection; here it can still be answered.
    try {
      parser_->get().body().reserve(static_cast<std::size_t>(*parser_->content_length()));
    } catch (const std::bad_alloc&) {
      return reply_error(out_of_memory_response());
    }
  }
  read_body();
}

void HttpSession::read_body() {
  // Beast reads at most the buffer's free capacity at a time (512 bytes after
  // a small header): room for 64 KiB of a large body per read saves thousands
  // of reads and timer updates for a 2 MiB upload.
  if (parser_->content_length() && *parser_->content_length() > 0) {
    const auto wanted = static_cast<std::size_t>(
        std::min<std::uint64_t>(*parser_->content_length(), kBodyReadChunkBytes));
    try {
      buffer_.reserve(buffer_.size() + wanted);
    } catch (const std::bad_alloc&) {
      return reply_error(out_of_memory_response());
    }
  }
  // A whole-body deadline, not an idle one: a trickling client cannot hold
  // the connection beyond it.
  stream_.expires_after(limits_.body_timeout);
  if (parser_->is_done()) return on_body_part({});
  read_body_part();
}

void HttpSession::read_body_part() {
  http::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body_part(ec); });
}

void HttpSession::on_body_part(beast::error_code ec) {
  if (ec == http::error::body_limit)
    return reply_error(detail_response(413, "Request body too large"));
  if (ec == beast::error::timeout) return reply_error(detail_response(408, "Request timed out"));
  if (ec == http::error::end_of_stream || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof) {
    return close();
  }
  if (ec) return reply_error(detail_response(400, "Malformed HTTP request"));
  // A chunked body grows as it comes: the budget follows what it holds.
  const std::size_t held = parser_->get().body().capacity();
  if (held > reserved_ && !reserve_body(held - reserved_)) {
    return reply_error(bodies_over_budget_response());
  }
  if (!parser_->is_done()) return read_body_part();
  dispatch();
}

bool HttpSession::reserve_body(std::size_t bytes) {
  if (!body_budget_) return true;
  if (!body_budget_->try_reserve(bytes)) {
    // Many clients at once is what reaches it: one line a second at most.
    static RateLimitedWarning warning("max_buffered_body_bytes reached; refusing request bodies",
                                      std::chrono::seconds(1));
    warning({{"bytes", log::number(static_cast<long long>(bytes))},
             {"held", log::number(static_cast<long long>(body_budget_->used()))}});
    return false;
  }
  reserved_ += bytes;
  return true;
}

void HttpSession::release_body() {
  if (body_budget_) body_budget_->release(reserved_);
  reserved_ = 0;
}

void HttpSession::dispatch() {
  ++requests_;
  stream_.expires_never();  // the execution has its own limits
  ApiRequest request;
  bool head = false;
  unsigned version = 11;
  {
    // Scoped: the header fields are not kept while the request runs.
    auto message = parser_->release();
    parser_.reset();
    try {
      buffer_.shrink_to_fit();  // an idle keep-alive connection keeps no read room
    } catch (const std::bad_alloc&) {
      // keeping the larger buffer is fine
    }
    keep_alive_ = message.keep_alive();
    head = message.method() == http::verb::head;
    version = message.version();
    try {
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      if (auto it = message.find(http::field::content_type); it != message.end()) {
        request.content_type = std::string(it->value());
      }
      request.request_id = std::to_string(id_) + "-" + std::to_string(requests_);
      request.client_gone = [weak = weak_from_this()] {
        auto self = weak.lock();
        return !self || self->peer_closed();
      };
    } catch (const std::bad_alloc&) {
      return reply_error(out_of_memory_response());
    }
    // The handler owns the body now and releases it once parsed.
    request.body = std::move(message.body());
  }
  handler_.handle(std::move(request), [self = shared_from_this(), head, version](ApiResponse r) {
    try {
      self->respond(std::move(r), version, head, false);
    } catch (const std::bad_alloc&) {
      self->reply_error(out_of_memory_response());
    }
  });
}

void HttpSession::respond(ApiResponse r, unsigned version, bool head, bool close_after) {
  // The request's body (and all made of it) is gone by its answer.
  release_body();
  http::response<http::string_body> response{static_cast<http::status>(r.status), version};
  response.set(http::field::server, "codejail-service");
  if (!r.content_type.empty()) response.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) response.set(name, value);
  response.body() = head ? std::string() : std::move(r.body);
  if (close_after) {
    // The client may still be sending what we refused: linger_close().
    keep_alive_ = false;
    linger_ = true;
  }
  response.keep_alive(keep_alive_ && !stopping_);
  response.prepare_payload();
  send(std::move(response));
}

void HttpSession::reply_error(ApiResponse r) { respond(std::move(r), 11, false, true); }

void HttpSession::send(http::response<http::string_body> response) {
  auto shared = std::make_shared<http::response<http::string_body>>(std::move(response));
  stream_.expires_after(limits_.write_timeout);
  http::async_write(stream_, *shared,
                    [self = shared_from_this(), shared](beast::error_code ec, std::size_t) {
                      if (!ec && self->linger_) return self->linger_close();
                      if (ec || !shared->keep_alive()) return self->close();
                      self->read_header();
                    });
}

void HttpSession::linger_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  if (!discard_buffer_) {
    discard_buffer_.reset(new (std::nothrow) char[kDiscardBufferBytes]);
    if (!discard_buffer_) return close();  // lingering is a courtesy
  }
  stream_.expires_after(std::chrono::seconds(5));
  discard_input();
}

void HttpSession::discard_input() {
  stream_.async_read_some(boost::asio::buffer(discard_buffer_.get(), kDiscardBufferBytes),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->discarded_ += n;
                            // Bounded: at most one more maximal body, 5 s.
                            const std::size_t bound = self->limits_.max_body_bytes + (1u << 20);
                            if (ec || self->discarded_ > bound) {
                              return self->close();
                            }
                            self->discard_input();
                          });
}

bool HttpSession::peer_closed() {
  // A look at the socket without consuming anything: EOF (0) or an error
  // means the client is gone; pending bytes (a pipelined request) or
  // nothing yet (EAGAIN) mean it still waits.
  char byte = 0;
  const ssize_t n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return false;
  if (n == 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

void HttpSession::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace cjs::server
