#include "orchestrator/observe.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

namespace picluster::orchestrator {
namespace {

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A sample value: integers as integers, other numbers with enough digits to round-trip.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// One metric family: HELP, TYPE, then its samples.
class Family {
 public:
  Family(std::string& out, std::string name, const char* type, const char* help)
      : m_out(out), m_name(std::move(name)) {
    m_out += "# HELP " + m_name + " " + help + "\n# TYPE " + m_name + " " + type + "\n";
  }
  void sample(const std::string& labels, double value, const std::string& suffix = "") {
    m_out += m_name + suffix + "{" + labels + "} " + number(value) + "\n";
  }

 private:
  std::string& m_out;
  std::string m_name;
};

std::string label(const char* name, std::string_view value) {
  return std::string(name) + "=\"" + label_escape(value) + "\"";
}

}  // namespace

std::string label_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

CycleHistory cycle_history(const std::vector<JournalEntry>& entries, const std::string& shelf,
                           std::chrono::system_clock::time_point now) {
  CycleHistory h;
  for (const auto& e : entries) {
    if (!shelf.empty() && !e.shelf.empty() && e.shelf != shelf) continue;
    const auto when = parse_utc(e.time);
    const bool watch_cycle = e.verb == "watch" && e.step == "power-cycle";
    if (e.verb == "watch" && e.step == "guard") h.guard_active = e.result == "skipped";
    if (watch_cycle && (e.result == "ok" || e.result == "failed") && when && *when <= now &&
        now - *when < std::chrono::hours(1)) {
      ++h.last_hour;
    }
    const bool manual_cycle =
        e.step == "power" && e.result == "ok" && e.detail.starts_with("PoE cycle");
    if (e.pi.empty() || !((watch_cycle && e.result == "ok") || manual_cycle)) continue;
    PiCycles& c = h.pis[e.pi];
    ++c.total;
    if (when) c.last = epoch_seconds(*when);
  }
  return h;
}

ShelfSnapshot make_snapshot(const inventory::Shelf& shelf, ShelfStatus status,
                            const std::vector<ProbeResult>& probes,
                            const std::vector<JournalEntry>& journal,
                            std::chrono::system_clock::time_point now) {
  ShelfSnapshot s;
  s.status = std::move(status);
  s.port_count = shelf.switch_.port_count;
  s.trunk_port = shelf.fileserver.trunk_port;
  s.image = std::filesystem::path(shelf.fileserver.golden_image).filename().string();
  for (const auto& p : probes) s.probes[p.pi] = p;
  s.cycles = cycle_history(journal, shelf.name, now);
  constexpr std::size_t kTail = 20;
  std::vector<JournalEntry> mine;
  for (const auto& e : journal) {
    if (e.shelf.empty() || e.shelf == shelf.name) mine.push_back(e);
  }
  const std::size_t skip = mine.size() > kTail ? mine.size() - kTail : 0;
  s.journal_tail.assign(mine.begin() + static_cast<std::ptrdiff_t>(skip), mine.end());
  s.generated = epoch_seconds(now);
  return s;
}

std::string render_metrics(const ShelfSnapshot& s) {
  std::string out;
  const std::string shelf = label("shelf", s.status.shelf);
  const auto pi_labels = [&](const PiStatus& st) {
    return shelf + "," + label("pi", st.name) + "," + label("port", std::to_string(st.port));
  };
  // Per Pi: one family at a time, a sample per Pi that has the value.
  const auto per_pi = [&](const char* name, const char* type, const char* help,
                          const std::function<std::optional<double>(const PiStatus&)>& value) {
    Family f(out, name, type, help);
    for (const auto& st : s.status.pis) {
      if (const auto v = value(st)) f.sample(pi_labels(st), *v);
    }
  };
  const auto flag = [](std::optional<bool> b) {
    return b ? std::optional<double>(*b ? 1.0 : 0.0) : std::nullopt;
  };
  const auto probe = [&](const PiStatus& st) -> const ProbeResult* {
    const auto it = s.probes.find(st.name);
    return it == s.probes.end() ? nullptr : &it->second;
  };
  per_pi("picluster_pi_up", "gauge",
         "Whether the Pi answered its last probe (1) or not (0); absent when not probed.",
         [&](const PiStatus& st) { return probe(st) ? flag(probe(st)->alive) : std::nullopt; });
  per_pi("picluster_pi_probe_seconds", "gauge", "How long the Pi's last probe took, in seconds.",
         [&](const PiStatus& st) {
           return probe(st) ? std::optional<double>(probe(st)->seconds) : std::nullopt;
         });
  per_pi("picluster_pi_poe_enabled", "gauge",
         "PoE admin state of the Pi's switch port (1 on, 0 off).",
         [&](const PiStatus& st) { return flag(st.poe_on); });
  per_pi("picluster_pi_poe_delivering", "gauge",
         "Whether the Pi's switch port is delivering PoE power (detection deliveringPower).",
         [&](const PiStatus& st) { return flag(st.poe_delivering); });
  per_pi("picluster_pi_power_watts", "gauge",
         "Power the switch reports for the Pi's port, in watts.", [&](const PiStatus& st) {
           return st.power_mw ? std::optional<double>(static_cast<double>(*st.power_mw) / 1000.0)
                              : std::nullopt;
         });
  per_pi("picluster_pi_held", "gauge",
         "Whether the Pi is held off by `picluster power off` (1) or not (0).",
         [&](const PiStatus& st) { return std::optional<double>(st.hold ? 1.0 : 0.0); });
  per_pi("picluster_pi_cycles_total", "counter",
         "PoE power cycles of the Pi carried out by picluster (watch and `power cycle`), from the "
         "journal.",
         [&](const PiStatus& st) {
           const auto it = s.cycles.pis.find(st.name);
           return std::optional<double>(
               it == s.cycles.pis.end() ? 0.0 : static_cast<double>(it->second.total));
         });
  per_pi("picluster_pi_last_cycle_timestamp_seconds", "gauge",
         "When the Pi was last power-cycled, in seconds since the epoch.", [&](const PiStatus& st) {
           const auto it = s.cycles.pis.find(st.name);
           return it == s.cycles.pis.end() || !it->second.last
                      ? std::nullopt
                      : std::optional<double>(static_cast<double>(*it->second.last));
         });
  {
    Family f(out, "picluster_pi_root_built_timestamp_seconds", "gauge",
             "When the Pi's NFS root was built (the live root's mtime), in seconds since the "
             "epoch; label image: "
             "the golden image the shelf builds roots from.");
    for (const auto& st : s.status.pis) {
      if (st.root_mtime)
        f.sample(pi_labels(st) + "," + label("image", s.image),
                 static_cast<double>(*st.root_mtime));
    }
  }
  const auto shelf_gauge = [&](const char* name, const char* type, const char* help, double v) {
    Family(out, name, type, help).sample(shelf, v);
  };
  shelf_gauge(
      "picluster_shelf_outage_guard_active", "gauge",
      "Whether watch's outage guard holds (too many Pis failing at once: nobody is cycled).",
      s.outage.value_or(s.cycles.guard_active) ? 1.0 : 0.0);
  shelf_gauge("picluster_shelf_cycles_in_last_hour", "gauge",
              "Power cycles watch tried on the shelf in the last hour (from the journal).",
              s.cycles.last_hour);
  shelf_gauge("picluster_shelf_pis", "gauge", "Pis of the shelf in the inventory.",
              static_cast<double>(s.status.pis.size()));
  shelf_gauge("picluster_shelf_problems", "gauge",
              "Problems `picluster status` reports for the shelf (0 = as the inventory says).",
              static_cast<double>(s.status.problems.size()));
  if (s.snmp) {
    shelf_gauge(
        "picluster_switch_snmp_errors_total", "counter",
        "SNMP requests to the shelf's switch that failed (timeout, refused SET, error-status).",
        static_cast<double>(s.snmp->errors));
    Family f(
        out, "picluster_switch_request_seconds", "histogram",
        "Time of one SNMP request to the shelf's switch (retransmissions included), in seconds.");
    for (std::size_t i = 0; i < switchctl::kSnmpBuckets.size(); ++i) {
      f.sample(shelf + "," + label("le", number(switchctl::kSnmpBuckets[i])),
               static_cast<double>(s.snmp->buckets[i]), "_bucket");
    }
    f.sample(shelf + ",le=\"+Inf\"", static_cast<double>(s.snmp->requests), "_bucket");
    f.sample(shelf, s.snmp->seconds_sum, "_sum");
    f.sample(shelf, static_cast<double>(s.snmp->requests), "_count");
  }
  if (s.round) {
    shelf_gauge("picluster_watch_round_seconds", "gauge",
                "How long watch's last round took (probes, decisions and cycles), in seconds.",
                s.round->seconds);
    shelf_gauge("picluster_watch_rounds_total", "counter",
                "Rounds watch completed since it started.",
                static_cast<double>(s.round->rounds_total));
    shelf_gauge("picluster_watch_last_round_timestamp_seconds", "gauge",
                "When watch's last round ended, in seconds since the epoch.",
                static_cast<double>(s.round->finished));
  }
  return out;
}

}  // namespace picluster::orchestrator
