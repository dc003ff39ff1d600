#include "orchestrator/observe_server.hpp"

#include <arpa/inet.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/text.hpp"
#include "orchestrator/observe.hpp"

namespace picluster::orchestrator {
namespace {

// httplib's own ThreadPool queues accepted connections without limit; this one makes the
// accepting thread wait when `max_queued` connections already wait for a worker.
class BoundedQueue final : public httplib::TaskQueue {
 public:
  BoundedQueue(int threads, int max_queued)
      : m_max(static_cast<std::size_t>(std::max(1, max_queued))) {
    for (int i = 0; i < std::max(1, threads); ++i) m_threads.emplace_back([this] { work(); });
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;
  ~BoundedQueue() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(m_mutex);
    m_space.wait(lock, [&] { return m_jobs.size() < m_max || m_shutdown; });
    m_jobs.push_back(std::move(fn));
    m_ready.notify_one();
  }

  void shutdown() override {
    {
      const std::lock_guard lock(m_mutex);
      m_shutdown = true;
    }
    m_ready.notify_all();
    m_space.notify_all();
    for (auto& t : m_threads) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return !m_jobs.empty() || m_shutdown; });
        if (m_jobs.empty()) return;  // shutting down, nothing left
        fn = std::move(m_jobs.front());
        m_jobs.pop_front();
      }
      m_space.notify_one();
      fn();  // serves one connection and closes it
    }
  }

  std::size_t m_max;
  std::vector<std::thread> m_threads;
  std::deque<std::function<void()>> m_jobs;
  std::mutex m_mutex;
  std::condition_variable m_ready, m_space;
  bool m_shutdown = false;
};

bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

std::string ListenAddress::str() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

Result<ListenAddress> parse_listen_address(std::string_view text, bool allow_public) {
  const auto bad = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument,
                "--listen " + printable(text) + ": " + why +
                    " (expected ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
  };
  ListenAddress a;
  std::string_view port_text;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return bad("no ]:PORT after the IPv6 address");
    a.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    a.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (a.host.find(':') != std::string::npos) return bad("write an IPv6 address in brackets");
  }
  if (a.host == "localhost") a.host = "127.0.0.1";
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string_view::npos)
    return bad("the port is not a number");
  a.port = std::stoi(std::string(port_text));
  if (a.port > 65535) return bad("the port is above 65535");
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, a.host.c_str(), &v4) != 1 &&
      ::inet_pton(AF_INET6, a.host.c_str(), &v6) != 1)
    return bad("not a numeric IP address");
  a.loopback = is_loopback(a.host);
  if (!a.loopback && !allow_public) {
    return fail(ErrorCode::refused,
                "--listen " + printable(text) +
                    ": not a loopback address; the page and the metrics would be readable from "
                    "the network (add --listen-public to mean it)");
  }
  return a;
}

struct ObserveServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  ServerLimits limits;
  std::mutex mutex;
  std::shared_ptr<const ObservedPages> pages;
  std::atomic<std::chrono::steady_clock::rep> last_round{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::shared_ptr<const ObservedPages> current() {
    const std::lock_guard lock(mutex);
    return pages;
  }

  // Answers from the pages published last; 503 until there are some.
  void serve(httplib::Response& res, std::string ObservedPages::*field, const char* type) {
    const auto p = current();
    if (!p) {
      res.status = 503;
      res.set_content("no watch round yet\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_content((*p).*field, type);
  }

  void health(httplib::Response& res) {
    const auto now = std::chrono::steady_clock::now();
    const auto last = last_round.load();
    const auto since = last == 0 ? now - started
                                 : now - std::chrono::steady_clock::time_point(
                                             std::chrono::steady_clock::duration(last));
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since).count();
    if (since > limits.stale_after) {
      res.status = 503;
      res.set_content("stale: no watch round for " + std::to_string(seconds) + " s\n",
                      "text/plain; charset=utf-8");
    } else {
      res.set_content(last == 0 ? std::string("ok: starting\n")
                                : "ok: last round " + std::to_string(seconds) + " s ago\n",
                      "text/plain; charset=utf-8");
    }
  }

  void routes() {
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_header("X-Content-Type-Options", "nosniff");
      if (req.method == "GET" || req.method == "HEAD")
        return httplib::Server::HandlerResponse::Unhandled;
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("read-only: only GET and HEAD\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      serve(res, &ObservedPages::metrics, "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", kPagePolicy);
      res.set_header("X-Frame-Options", "DENY");
      serve(res, &ObservedPages::page, "text/html; charset=utf-8");
    });
    server.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
      serve(res, &ObservedPages::status_json, "application/json");
    });
    server.Get("/healthz",
               [this](const httplib::Request&, httplib::Response& res) { health(res); });
  }
};

ObserveServer::ObserveServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

ObserveServer::~ObserveServer() {
  m_impl->server.stop();
  if (m_impl->thread.joinable()) m_impl->thread.join();
}

Result<std::unique_ptr<ObserveServer>> ObserveServer::start(const ListenAddress& address,
                                                            ServerLimits limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  auto& s = impl->server;
  s.new_task_queue = [limits] { return new BoundedQueue(limits.threads, limits.queued); };
  s.set_read_timeout(limits.timeout);
  s.set_write_timeout(limits.timeout);
  s.set_keep_alive_timeout(limits.timeout.count());
  s.set_keep_alive_max_count(20);
  s.set_payload_max_length(4096);
  impl->routes();
  if (address.port == 0) {
    impl->port = s.bind_to_any_port(address.host);
  } else {
    impl->port = s.bind_to_port(address.host, address.port) ? address.port : -1;
  }
  if (impl->port <= 0) {
    return fail(ErrorCode::io, "--listen " + address.str() +
                                   ": cannot listen there (address in use or not on "
                                   "this machine)");
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  return std::unique_ptr<ObserveServer>(new ObserveServer(std::move(impl)));
}

void ObserveServer::publish(std::shared_ptr<const ObservedPages> pages) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->pages = std::move(pages);
}

void ObserveServer::heartbeat() {
  m_impl->last_round.store(std::chrono::steady_clock::now().time_since_epoch().count());
}

int ObserveServer::port() const { return m_impl->port; }

}  // namespace picluster::orchestrator
