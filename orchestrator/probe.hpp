#pragma once
// Probes for `picluster watch`: is a Pi alive? A Prober checks a whole round of Pis at once, in
// parallel, so one dead Pi (or a shelf-wide outage) costs one timeout per round, not one per Pi.
//
//   tcp[:PORT]    connect to PORT (default 22, SSH) on the Pi's public IPv6 address;
//                 alive = the connection is accepted (a refusal means the network stack is up
//                 but nothing listens: counted as a failure, the Pi is not usable).
//   exec:PROGRAM  runs PROGRAM NAME ADDRESS as an argv (never through a shell), stdin/stdout/
//                 stderr on /dev/null; alive = exit status 0 within the timeout; a straggler is
//                 killed (SIGKILL) and counts as a failure.
//   none          no probing: watch has nothing to decide.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace picluster::orchestrator {

struct ProbeTarget {
  std::string pi;
  std::string address;  // the Pi's public IPv6 address, text form
};

struct ProbeResult {
  std::string pi;
  bool alive = false;
  std::string detail;  // why it failed: "connection refused", "exit 1", "timed out after 5 s"
  double seconds = 0.0;  // how long the probe took (the timeout when it got no answer)
};

// Contract: probe() returns exactly one result per target, in the targets' order, and returns
// within about the prober's timeout however many targets fail or hang. It never throws.
class Prober {
 public:
  virtual ~Prober() = default;
  virtual std::vector<ProbeResult> probe(const std::vector<ProbeTarget>& targets) = 0;
  [[nodiscard]] virtual std::string describe() const = 0;  // "tcp:22", "exec:/usr/local/bin/x"
};

struct ProbeSpec {
  enum class Kind { tcp, exec, none };
  Kind kind = Kind::tcp;
  int port = 22;        // tcp
  std::string program;  // exec
  [[nodiscard]] std::string str() const;
};

// Parses "tcp", "tcp:PORT", "exec:PROGRAM" (an absolute path or a name looked up on PATH) or
// "none"; the error (invalid_argument) quotes the text.
Result<ProbeSpec> parse_probe_spec(std::string_view text);

// TCP connect to [address]:port, non-blocking, all targets at once, bounded by timeout.
class TcpProber final : public Prober {
 public:
  TcpProber(int port, std::chrono::milliseconds timeout) : m_port(port), m_timeout(timeout) {}
  std::vector<ProbeResult> probe(const std::vector<ProbeTarget>& targets) override;
  [[nodiscard]] std::string describe() const override { return "tcp:" + std::to_string(m_port); }

 private:
  int m_port;
  std::chrono::milliseconds m_timeout;
};

// Runs `program NAME ADDRESS` per target, all at once, bounded by timeout.
class ExecProber final : public Prober {
 public:
  ExecProber(std::string program, std::chrono::milliseconds timeout)
      : m_program(std::move(program)), m_timeout(timeout) {}
  std::vector<ProbeResult> probe(const std::vector<ProbeTarget>& targets) override;
  [[nodiscard]] std::string describe() const override { return "exec:" + m_program; }

 private:
  std::string m_program;
  std::chrono::milliseconds m_timeout;
};

// The prober for a spec; nullptr for `none`.
std::unique_ptr<Prober> make_prober(const ProbeSpec& spec, std::chrono::milliseconds timeout);

}  // namespace picluster::orchestrator
