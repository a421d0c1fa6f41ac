#include "server/worker_pool.h"

#include <boost/asio/write.hpp>

#include <algorithm>
#include <new>

#include "common/log.h"

namespace cjs::server {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

WorkerPool::WorkerPool(asio::io_context& io, PoolSettings settings, Metrics& metrics)
    : io_(io), settings_(settings), metrics_(metrics) {}

std::size_t WorkerPool::workers() const {
  return static_cast<std::size_t>(std::count_if(
      workers_.begin(), workers_.end(), [](const auto& w) { return w->ready && !w->retiring; }));
}

std::size_t WorkerPool::busy() const {
  return static_cast<std::size_t>(std::count_if(
      workers_.begin(), workers_.end(), [](const auto& w) { return w->current != nullptr; }));
}

void WorkerPool::update_gauges() {
  metrics_.set_workers(workers());
  metrics_.set_busy_workers(busy());
  metrics_.set_queue_depth(queue_.size());
  if (listener_) listener_();
}

void WorkerPool::add_worker(int fd) {
  auto worker = std::make_shared<Worker>(io_);
  boost::system::error_code ec;
  worker->socket.assign(asio::local::stream_protocol(), fd, ec);
  if (ec) {
    log::error("cannot adopt a worker socket", {{"error", ec.message()}});
    return;
  }
  workers_.push_back(worker);
  read_more(worker);
}

bool WorkerPool::has_idle_worker() const {
  return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) {
    return w->ready && !w->retiring && w->current == nullptr;
  });
}

void WorkerPool::finish(const std::shared_ptr<Pending>& pending, PoolOutcome outcome) {
  // Every outcome reports the wait: until a worker took the request, or
  // until now for one that never got a worker.
  const auto waited_until = pending->started.value_or(Clock::now());
  outcome.queue_seconds = std::chrono::duration<double>(waited_until - pending->enqueued).count();
  metrics_.observe_queue_wait(outcome.queue_seconds);
  try {
    pending->done(std::move(outcome));
  } catch (const std::exception& e) {
    log::error("request completion failed", {{"error", std::string(e.what())}});
  }
}

bool WorkerPool::drop_if_client_gone(const std::shared_ptr<Pending>& pending) {
  if (!pending->client_gone || !pending->client_gone()) return false;
  pending->timer->cancel();
  const double waited = std::chrono::duration<double>(Clock::now() - pending->enqueued).count();
  log::info("client closed its connection while its request waited; not running it",
            {{"request", log::number(static_cast<long long>(pending->request.id))},
             {"queue_ms", log::number(waited * 1000)}});
  PoolOutcome outcome;
  outcome.kind = PoolOutcome::kClientGone;
  finish(pending, std::move(outcome));
  return true;
}

void WorkerPool::prune_client_gone() {
  std::deque<std::shared_ptr<Pending>> waiting;
  waiting.swap(queue_);
  for (auto& pending : waiting) {
    if (!drop_if_client_gone(pending)) queue_.push_back(std::move(pending));
  }
  update_gauges();
}

void WorkerPool::submit(protocol::Request request, PoolCallback done, ClientGone client_gone) {
  // Requests nobody waits for must not take the places of those that
  // someone does.
  if (!has_idle_worker() && queue_.size() >= settings_.queue_limit) prune_client_gone();
  // The queue only holds requests waiting for a worker: with an idle one
  // (dispatch() below takes it at once), even queue_limit 0 must serve.
  if (!has_idle_worker() && queue_.size() >= settings_.queue_limit) {
    PoolOutcome outcome;
    outcome.kind = PoolOutcome::kQueueFull;
    asio::post(io_, [done = std::move(done), outcome]() mutable { done(std::move(outcome)); });
    return;
  }
  auto pending = std::make_shared<Pending>();
  pending->request = std::move(request);
  pending->done = std::move(done);
  pending->client_gone = std::move(client_gone);
  pending->enqueued = Clock::now();
  pending->timer = std::make_unique<asio::steady_timer>(io_, settings_.queue_timeout);
  std::weak_ptr<Pending> weak = pending;
  pending->timer->async_wait([this, weak](const boost::system::error_code& ec) {
    auto p = weak.lock();
    if (ec || !p) return;
    auto it = std::find(queue_.begin(), queue_.end(), p);
    if (it == queue_.end()) return;  // already running
    queue_.erase(it);
    update_gauges();
    PoolOutcome outcome;
    outcome.kind = PoolOutcome::kQueueTimeout;
    finish(p, std::move(outcome));
  });
  queue_.push_back(std::move(pending));
  dispatch();
}

void WorkerPool::dispatch() {
  for (auto& worker : workers_) {
    if (queue_.empty()) break;
    if (!worker->ready || worker->retiring || worker->current) continue;
    std::shared_ptr<Pending> pending;
    while (!pending && !queue_.empty()) {
      pending = queue_.front();
      queue_.pop_front();
      // A client that gave up (edxapp reads for 3.5 s) gets no answer from
      // a run; the worker takes the next request instead.
      if (drop_if_client_gone(pending)) pending.reset();
    }
    if (!pending) break;
    pending->timer->cancel();
    start(worker, std::move(pending));
  }
  update_gauges();
}

void WorkerPool::start(const std::shared_ptr<Worker>& worker, std::shared_ptr<Pending> pending) {
  pending->started = Clock::now();
  try {
    worker->outgoing = protocol::encode(pending->request);
  } catch (const std::bad_alloc&) {
    // The frame copies the whole request; without memory for it the
    // request fails and the worker stays free.
    log::error("out of memory encoding a request for a worker");
    PoolOutcome outcome;
    outcome.kind = PoolOutcome::kNoMemory;
    finish(pending, std::move(outcome));
    return;
  }
  worker->current = std::move(pending);
  const std::uint64_t seq = ++worker->started;
  if (worker->answer_deadline.count() > 0) {
    // A worker that is stopped or wedged would hold this request (and its
    // client) forever: past the deadline the request fails with `See logs`
    // and the worker is given up on: the supervisor is told to kill it (a
    // stopped one would never see its socket closed), and replaces it.
    worker->answer_timer.expires_after(worker->answer_deadline);
    worker->answer_timer.async_wait([this, worker, seq](const boost::system::error_code& ec) {
      if (ec || !worker->current || worker->started != seq) return;
      log::error(
          "worker did not answer within its deadline; giving up on it",
          {{"slot", log::number(static_cast<long long>(worker->slot))},
           {"worker_pid", log::number(static_cast<long long>(worker->pid))},
           {"deadline_ms", log::number(static_cast<long long>(worker->answer_deadline.count()))}});
      drop(worker, "no answer within the deadline");
      if (gave_up_listener_) gave_up_listener_(worker->slot, worker->pid);
    });
  }
  // The files may be large; the worker gets its own copy. The payload text
  // stays for the answer if the worker dies (PoolOutcome::payload_text).
  worker->current->request.files.clear();
  worker->current->request.files.shrink_to_fit();
  asio::async_write(worker->socket, asio::buffer(worker->outgoing),
                    [this, worker](const boost::system::error_code& ec, std::size_t) {
                      worker->outgoing.clear();
                      worker->outgoing.shrink_to_fit();
                      if (ec) drop(worker, "write failed");
                    });
}

void WorkerPool::read_more(const std::shared_ptr<Worker>& worker) {
  worker->socket.async_read_some(
      asio::buffer(worker->buffer),
      [this, worker](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          drop(worker, ec == asio::error::eof ? "closed" : "read failed");
          return;
        }
        worker->reader.feed(std::string_view(worker->buffer.data(), n));
        bool bad = false;
        while (auto frame = worker->reader.next(bad)) on_frame(worker, frame->first, frame->second);
        if (bad) {
          drop(worker, "malformed frame");
          return;
        }
        read_more(worker);
      });
}

void WorkerPool::on_frame(const std::shared_ptr<Worker>& worker, protocol::FrameKind kind,
                          std::string& body) {
  if (kind == protocol::FrameKind::kHello) {
    if (auto hello = protocol::decode_hello(body)) {
      worker->ready = true;
      worker->slot = hello->slot;
      worker->pid = hello->pid;
      worker->answer_deadline = std::chrono::milliseconds(hello->answer_deadline_ms);
      log::debug("worker ready", {{"slot", log::number(static_cast<long long>(hello->slot))},
                                  {"worker_pid", log::number(static_cast<long long>(hello->pid))}});
      dispatch();
    }
    return;
  }
  auto response =
      kind == protocol::FrameKind::kResponse ? protocol::decode_response(body) : std::nullopt;
  if (!response || !worker->current || response->id != worker->current->request.id) {
    drop(worker, "unexpected frame");
    return;
  }
  worker->answer_timer.cancel();
  auto pending = std::move(worker->current);
  worker->current.reset();
  worker->retiring = response->last;
  PoolOutcome outcome;
  outcome.kind = PoolOutcome::kAnswered;
  outcome.response = std::move(*response);
  finish(pending, std::move(outcome));
  dispatch();
}

void WorkerPool::drop(const std::shared_ptr<Worker>& worker, const char* why) {
  auto it = std::find(workers_.begin(), workers_.end(), worker);
  if (it == workers_.end()) return;  // already dropped
  workers_.erase(it);
  worker->answer_timer.cancel();
  boost::system::error_code ignored;
  worker->socket.close(ignored);
  // A worker that leaves while idle finished its max-requests (or died
  // between requests); one that leaves mid-request crashed.
  if (!worker->current) metrics_.record_worker_recycle();
  if (worker->current) {
    metrics_.record_worker_crash();
    log::error("worker went away during a request",
               {{"slot", log::number(static_cast<long long>(worker->slot))},
                {"worker_pid", log::number(static_cast<long long>(worker->pid))},
                {"reason", std::string(why)}});
    auto pending = std::move(worker->current);
    worker->current.reset();
    PoolOutcome outcome;
    outcome.kind = PoolOutcome::kWorkerDied;
    outcome.payload_text = std::move(pending->request.payload_text);
    finish(pending, std::move(outcome));
  }
  update_gauges();
  dispatch();
}

}  // namespace cjs::server
