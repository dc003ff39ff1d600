#pragma once
// The HTTP side of `picluster watch --listen`: a read-only server on its own threads (cpp-httplib;
// this is the only file that includes it). The watch loop never waits for it: whoever builds the
// pages publishes them as one immutable object (a pointer swap under a mutex), and each request is
// answered from the object published last. Endpoints (GET and HEAD only; anything else is 405):
//   /metrics      Prometheus text format 0.0.4
//   /             the shelf page (HTML; a Content-Security-Policy header allows nothing outside)
//   /api/status   the same JSON as `picluster status --json`
//   /healthz      200 "ok" while the watch loop completed a round within `stale_after`, else 503
// Before the first publish the pages answer 503 ("no round yet").
//
// Bounded: `threads` connections are served at once and `queued` more wait for a thread; beyond
// that the accepting thread stops accepting (new connections wait in the kernel's listen backlog).
// A client must send its request within `timeout` and take the answer within `timeout`, so a
// client that connects and sends nothing holds a thread for at most `timeout`.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace picluster::orchestrator {

struct ListenAddress {
  std::string host;  // numeric: "127.0.0.1", "::1"
  int port = 0;      // 0: any free port (the server reports the one it got)
  bool loopback = true;
  [[nodiscard]] std::string str() const;  // "127.0.0.1:9464", "[::1]:9464"
};

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (= 127.0.0.1). Addresses outside 127.0.0.0/8
// and ::1 are refused (ErrorCode::refused) unless allow_public; errors quote the text.
Result<ListenAddress> parse_listen_address(std::string_view text, bool allow_public);

struct ObservedPages {
  std::string metrics;
  std::string page;
  std::string status_json;
};

struct ServerLimits {
  int threads = 4;
  int queued = 16;
  std::chrono::seconds timeout{2};
  std::chrono::seconds stale_after{120};  // /healthz
};

class ObserveServer {
 public:
  // Binds (errors name the address) and starts serving on its own threads.
  static Result<std::unique_ptr<ObserveServer>> start(const ListenAddress& address,
                                                      ServerLimits limits = {});
  ObserveServer(const ObserveServer&) = delete;
  ObserveServer& operator=(const ObserveServer&) = delete;
  ~ObserveServer();  // stops accepting, finishes the requests in progress, joins its threads

  void publish(std::shared_ptr<const ObservedPages> pages);
  // The watch loop finished a round now (for /healthz). Cheap: one atomic store.
  void heartbeat();
  [[nodiscard]] int port() const;

  struct Impl;

 private:
  explicit ObserveServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace picluster::orchestrator
