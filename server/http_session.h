// One HTTP/1.1 connection (after the Boost.Beast server examples): read a
// request with header and body limits and timeouts, hand it to the
// ApiHandler, write the answer, repeat while keep-alive holds.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/api_handler.h"
#include "server/body_budget.h"

namespace cjs::server {

struct SessionLimits {
  std::size_t max_body_bytes = 32u << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_fields = 100;
  // Shared by every session (max_buffered_body_bytes); null: unbounded.
  // Each session keeps it alive, as it may outlive the acceptor's objects.
  std::shared_ptr<BodyBudget> body_budget;
  std::chrono::milliseconds header_timeout{5000};  // slowloris: the whole header
  std::chrono::seconds body_timeout{60};           // the whole body (32 MiB at slow links)
  std::chrono::seconds idle_timeout{30};           // keep-alive between requests
  std::chrono::seconds write_timeout{60};
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, ApiHandler& handler, const SessionLimits& limits,
              std::function<void()> on_close);
  ~HttpSession();
  void start();
  // Drain: finish the current exchange, then close instead of keeping alive.
  void stop_after_current();

 private:
  void read_header();
  void on_header(boost::beast::error_code ec);
  void read_body();
  void read_body_part();
  void on_body_part(boost::beast::error_code ec);
  // Takes what the body holds now (or will, `bytes`) from the shared budget;
  // false when it does not fit.
  bool reserve_body(std::size_t bytes);
  void release_body();
  void dispatch();
  // The one way an answer becomes an HTTP message: the handler's answers
  // keep the connection alive if the client asked so; `close_after` ones
  // (errors before a request reached the handler) end it.
  void respond(ApiResponse r, unsigned version, bool head, bool close_after);
  // An answer before (or instead of) the handler's, e.g. a detail_response
  // or out_of_memory_response: then the connection closes.
  void reply_error(ApiResponse r);
  void send(boost::beast::http::response<boost::beast::http::string_body> response);
  void close();
  // The client closed its connection (or it failed) while a request waits.
  bool peer_closed();
  // After an early error answer: stop sending, then read and discard what
  // the client is still sending (bounded), so it can read our answer
  // instead of failing with a reset.
  void linger_close();
  void discard_input();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  ApiHandler& handler_;
  const SessionLimits& limits_;
  std::function<void()> on_close_;
  bool keep_alive_ = false;
  bool stopping_ = false;
  bool busy_ = false;
  bool linger_ = false;  // close with linger_close() after the answer
  std::size_t discarded_ = 0;
  // Only a lingering close needs it; most sessions never allocate it.
  std::unique_ptr<char[]> discard_buffer_;
  std::shared_ptr<BodyBudget> body_budget_;  // limits_.body_budget
  std::size_t reserved_ = 0;                 // taken from body_budget_
  std::uint64_t id_;
  std::uint64_t requests_ = 0;
};

}  // namespace cjs::server
