#include "orchestrator/enroll.hpp"

#include <algorithm>
#include <functional>

#include "common/text.hpp"
#include "nfsroot/layout.hpp"
#include "orchestrator/boot_log.hpp"
#include "orchestrator/images.hpp"
#include "orchestrator/reconcile.hpp"
#include "switchctl/controller.hpp"

namespace picluster::orchestrator {
namespace {

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + " s"; }

// The Pi named in `request`, when an earlier enrollment of it stopped half way: same name, same
// port, on this shelf, still without a MAC or a serial.
std::optional<inventory::Pi> unfinished(const inventory::Shelf& shelf, const inventory::PiRequest& request) {
  const inventory::Pi* pi = shelf.find_pi(request.name);
  if (pi == nullptr || pi->port != request.port || (pi->mac && pi->serial)) return std::nullopt;
  return *pi;
}

Result<void> apply_for(ShelfSession& s, const std::string& pi) {
  ApplyOptions options;
  options.pis = {pi};
  return apply_shelf(s, options);
}

// Polls the switch's forwarding table until one Raspberry Pi MAC shows on the Pi's port.
Result<inventory::Mac> wait_for_mac(ShelfSession& s, const inventory::Pi& pi, const EnrollOptions& o,
                                    switchctl::Clock& clock) {
  auto sw = s.switch_controller();
  if (!sw) return std::unexpected(sw.error());
  const auto deadline = clock.now() + o.wait_mac;
  s.report({pi.name, "mac", "note",
            "waiting up to " + seconds_text(o.wait_mac) + " for a Raspberry Pi MAC on port " +
                std::to_string(pi.port) + " (switch forwarding table)"});
  for (;;) {
    auto learned = (*sw)->learned_macs();
    if (!learned) return std::unexpected(learned.error());
    auto mac = pi_mac_on_port(*learned, pi.port);
    if (!mac) return std::unexpected(mac.error());
    if (*mac) return **mac;
    if (clock.now() >= deadline) {
      return fail(ErrorCode::timeout, "no MAC on port " + std::to_string(pi.port) + " after " +
                                          seconds_text(o.wait_mac) +
                                          ": is the Pi plugged in and its PoE class supported?");
    }
    clock.sleep_for(o.poll);
  }
}

// Polls dnsmasq's log on the fileserver until it names the Pi's serial.
Result<SerialSighting> wait_for_serial(ShelfSession& s, const inventory::Pi& pi, const EnrollOptions& o,
                                       switchctl::Clock& clock) {
  auto host = s.host();
  if (!host) return std::unexpected(host.error());
  const std::string& logged = s.shelf().boot.dnsmasq_log;
  const auto deadline = clock.now() + o.wait_serial;
  s.report({pi.name, "serial", "note",
            "waiting up to " + seconds_text(o.wait_serial) + " for " + pi.name + "'s boot request in " + logged +
                " on " + (*host)->name()});
  for (;;) {
    auto log = read_boot_log(s);
    if (!log) return std::unexpected(log.error());
    if (auto found = serial_for(*log, *pi.mac, pi.storage.pi)) return *found;
    if (clock.now() >= deadline) {
      const std::string saw = seen(*log, *pi.mac)
                                  ? "dnsmasq answered its DHCP request but logged no TFTP read of a serial folder"
                                  : "no DHCP request from " + pi.mac->str() + " in that log";
      return fail(ErrorCode::timeout,
                  "no serial from " + pi.name + " (" + pi.mac->str() + ") in " + logged + " after " +
                      seconds_text(o.wait_serial) + ": " + saw +
                      " (is it set to boot from the network, BOOT_ORDER, and does dnsmasq run with this shelf's "
                      "file, log-dhcp and log-facility?)");
    }
    clock.sleep_for(o.poll);
  }
}

// Writes `set` into the Pi's inventory entry (locked, atomic) and the session's copy.
Result<inventory::Pi> write_pi(const VerbContext& ctx, ShelfSession& s, const std::string& name,
                               const std::function<Result<void>(const inventory::Inventory&, inventory::Pi&)>& set) {
  inventory::Pi out;
  auto inv = change_inventory(ctx, [&](inventory::Inventory& i) -> Result<void> {
    inventory::Pi* pi = i.find_shelf(s.shelf().name)->find_pi(name);
    if (pi == nullptr) {
      return fail(ErrorCode::not_found, i.source.string() + ": " + name + " was removed from the inventory meanwhile");
    }
    if (auto ok = set(i, *pi); !ok) return ok;
    out = *pi;
    return {};
  });
  if (!inv) return std::unexpected(inv.error());
  s.reset_inventory(std::move(*inv));
  return out;
}

Result<void> plan_enrollment(ShelfSession& s, const inventory::Pi& pi, const EnrollOptions& o) {
  if (!pi.mac) {
    s.report({pi.name, "mac", "planned",
              "PoE on, wait up to " + seconds_text(o.wait_mac) + " for one Raspberry Pi MAC on port " +
                  std::to_string(pi.port) + ", write it, rewrite dnsmasq's file and restart dnsmasq"});
  }
  s.report({pi.name, "serial", "planned",
            "wait up to " + seconds_text(o.wait_serial) + " for its serial in " + s.shelf().boot.dnsmasq_log +
                " (TFTP read of <serial>/start*.elf, or option 97), write it, stage " +
                s.shelf().fileserver.tftp_root + "/<serial>/"});
  return {};
}

Result<Enrollment> enroll_steps(const VerbContext& ctx, ShelfSession& s, const inventory::PiRequest& request,
                                const EnrollOptions& o) {
  if (!switch_configured(s.shelf()) || !fileserver_configured(s.shelf())) {
    return fail(ErrorCode::invalid_argument,
                "shelf " + s.shelf().name + ": zero-touch enrollment needs the switch and the fileserver "
                "described in the inventory (or give --mac and --serial, or use --offline)");
  }
  auto lock = lock_shelf(ctx, s);
  if (!lock) return std::unexpected(lock.error());
  Enrollment out;
  out.enrolled = true;
  const auto again = [&](const Error& e) {
    Error with = e.with_context(request.name);
    if (!ctx.dry_run) {
      with.message += " (" + request.name + " is in the inventory; run `picluster add " + request.name + " --port " +
                      std::to_string(request.port) + "` again to finish)";
    }
    return std::unexpected(with);
  };
  // 1-2. allocate and apply (PoE on), unless an earlier run did
  if (auto pi = unfinished(s.shelf(), request)) {
    s.report({pi->name, "allocate", "unchanged",
              "already in the inventory (port " + std::to_string(pi->port) + ", VLAN " + std::to_string(pi->vlan) +
                  "): finishing its enrollment"});
    out.pi = *pi;
    if (!ctx.dry_run) {
      if (auto ok = apply_for(s, pi->name); !ok) return again(ok.error());
    }
  } else {
    auto added = add_pi_locked(ctx, s, request);
    if (!added) return std::unexpected(added.error());
    out.pi = *added;
  }
  if (ctx.dry_run) {
    if (auto ok = plan_enrollment(s, out.pi, o); !ok) return std::unexpected(ok.error());
    return out;
  }
  switchctl::SystemClock clock;
  // 3. the MAC from the switch's forwarding table, then dnsmasq's static lease for it
  if (!out.pi.mac) {
    auto mac = wait_for_mac(s, out.pi, o, clock);
    if (!mac) return again(mac.error());
    auto written = write_pi(ctx, s, out.pi.name, [&](const inventory::Inventory& i, inventory::Pi& pi) -> Result<void> {
      if (auto ok = check_mac_free(i, pi.name, *mac); !ok) return ok;
      pi.mac = *mac;
      return {};
    });
    if (!written) return again(written.error());
    out.pi = *written;
    out.mac_evidence = "learned on port " + std::to_string(out.pi.port) + " (switch forwarding table)";
    s.report({out.pi.name, "mac", "ok", mac->str() + " " + out.mac_evidence});
    if (auto ok = apply_for(s, out.pi.name); !ok) return again(ok.error());
  }
  // 4. the serial from dnsmasq's log, then the TFTP folder staged
  if (out.pi.serial) return out;
  auto serial = wait_for_serial(s, out.pi, o, clock);
  if (!serial) return again(serial.error());
  auto written = write_pi(ctx, s, out.pi.name, [&](const inventory::Inventory& i, inventory::Pi& pi) -> Result<void> {
    if (auto ok = check_serial_free(i, pi.name, serial->serial); !ok) return ok;
    pi.serial = serial->serial;
    return {};
  });
  if (!written) return again(written.error());
  out.pi = *written;
  out.serial_evidence = serial->evidence;
  s.report({out.pi.name, "serial", "ok", serial->serial + " from " + serial->evidence});
  if (auto ok = apply_for(s, out.pi.name); !ok) return again(ok.error());
  // The root was cloned before the serial was known: its image's boot set goes into the TFTP
  // folder now (apply stages it only for a root it clones).
  if (!inventory::image_of(s.shelf(), out.pi).empty()) {
    auto staged = stage_boot_set(s, out.pi, false);
    if (!staged) return again(staged.error());
    s.report({out.pi.name, "boot", "ok", *staged});
  }
  return out;
}

}  // namespace

Result<BootLog> read_boot_log(ShelfSession& s) {
  auto host = s.host();
  if (!host) return std::unexpected(host.error());
  const std::string path = nfsroot::Layout(s.shelf().fileserver).host_path(s.shelf().boot.dnsmasq_log);
  auto st = (*host)->stat(path);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::regular) return BootLog{};  // dnsmasq has logged nothing yet
  auto text = (*host)->read_file(path);
  if (!text) return std::unexpected(text.error());
  return parse_dnsmasq_log(*text);
}

std::vector<AskingPi> asking_to_boot(const std::vector<switchctl::LearnedMac>& unknown_pis, const BootLog& log) {
  std::vector<AskingPi> out;
  for (const auto& l : unknown_pis) {
    if (std::any_of(out.begin(), out.end(), [&](const AskingPi& a) { return a.mac == l.mac; })) continue;
    AskingPi a{l.port, l.mac, std::nullopt, model_for(log, l.mac), seen(log, l.mac)};
    if (auto s = serial_for(log, l.mac, std::nullopt)) a.serial = s->serial;
    out.push_back(std::move(a));
  }
  return out;
}

bool enrolls(const inventory::Shelf& shelf, const inventory::PiRequest& request) {
  return shelf.boot.mode == inventory::BootMode::netboot && !request.mac && !request.serial;
}

Result<std::optional<inventory::Mac>> pi_mac_on_port(const std::vector<switchctl::LearnedMac>& learned,
                                                     int port) {
  std::vector<inventory::Mac> found;
  for (const auto& l : learned) {
    if (l.port != port || !switchctl::is_raspberry_pi_mac(l.mac)) continue;
    if (std::find(found.begin(), found.end(), l.mac) == found.end()) found.push_back(l.mac);
  }
  if (found.empty()) return std::optional<inventory::Mac>{};
  if (found.size() == 1) return std::optional<inventory::Mac>{found.front()};
  std::string names;
  for (const auto& m : found) names += (names.empty() ? "" : ", ") + m.str();
  return fail(ErrorCode::conflict, "port " + std::to_string(port) + " has " + std::to_string(found.size()) +
                                       " Raspberry Pi MACs (" + names +
                                       "): which one is this Pi? Leave one Pi on the port, or give --mac");
}

Result<void> check_mac_free(const inventory::Inventory& inv, const std::string& name, const inventory::Mac& mac) {
  for (const auto& shelf : inv.shelves) {
    for (const auto& pi : shelf.pis) {
      if (pi.name != name && pi.mac == mac) {
        return fail(ErrorCode::conflict, "MAC " + mac.str() + " is already " + pi.name + "'s (shelf " + shelf.name +
                                             ", port " + std::to_string(pi.port) +
                                             "): was that Pi moved to this port? `picluster remove " + pi.name +
                                             "` first");
      }
    }
  }
  return {};
}

Result<void> check_serial_free(const inventory::Inventory& inv, const std::string& name, const std::string& serial) {
  for (const auto& shelf : inv.shelves) {
    for (const auto& pi : shelf.pis) {
      if (pi.name != name && pi.serial == serial) {
        return fail(ErrorCode::conflict, "serial " + serial + " is already " + pi.name + "'s (shelf " + shelf.name +
                                             ", port " + std::to_string(pi.port) +
                                             "): was that Pi moved to this port? `picluster remove " + pi.name +
                                             "` first");
      }
    }
  }
  return {};
}

Result<Enrollment> add_or_enroll(const VerbContext& ctx, const inventory::PiRequest& request,
                                 const EnrollOptions& options) {
  auto session = open_session(ctx, "add");
  if (!session) return std::unexpected(session.error());
  if (!enrolls((*session)->shelf(), request)) {
    auto added = add_pi(ctx, request);
    if (!added) return std::unexpected(added.error());
    return Enrollment{*added, false, {}, {}};
  }
  return (*session)->journaled(request.name, enroll_steps(ctx, **session, request, options), ctx.dry_run);
}

}  // namespace picluster::orchestrator
