#pragma once
// Fileserver configuration: installs the rendered fileserver files (bootcfg::
// render_fileserver_files) under root_prefix and applies each change live, idempotently: a file
// whose contents and mode are unchanged produces no action at all, so nothing is restarted.
//
//   etc/network/interfaces.d/*   stanzas are diffed by interface: removed or changed interfaces
//                                are `ifdown`ed before the write (the old file describes them),
//                                added or changed ones `ifup`ed after it
//   etc/systemd/network/*        `networkctl reload`
//   etc/exports.d/*, etc/exports `exportfs -ra`
//   etc/sysctl.d/*               `sysctl --system`
//   etc/nftables.d/*, *.nft      `nft -f FILE`
//   etc/dnsmasq.d/*              `systemctl restart dnsmasq`
// Order: ifdowns, folder creation and writes, ifups, then reloads. Live commands are skipped
// with root_prefix set (see actions.hpp).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/rendered_file.hpp"
#include "inventory/inventory.hpp"
#include "nfsroot/actions.hpp"
#include "nfsroot/layout.hpp"

namespace picluster::nfsroot {

// ifupdown stanzas keyed by interface name: "auto X", "allow-*" lines naming X, and the
// "iface X ..." block with its option lines. Used to know which interfaces changed.
std::map<std::string, std::string> parse_ifupdown_stanzas(std::string_view text);

struct VlanInterface {
  std::string name;     // "eth0.10"
  std::string address;  // from the stanza's "address" line, "" if none
  std::string state;    // "UP", "DOWN", "missing" from `ip -br link`; "" with root_prefix set
};

struct ExportLine {
  std::string path;
  std::string clients;  // the rest of the line
};

struct FileserverState {
  std::vector<VlanInterface> interfaces;
  std::vector<ExportLine> exports;
};

class FileserverConfigurator {
 public:
  FileserverConfigurator(Host& host, const inventory::Fileserver& fileserver);

  // Reads the installed files (read-only, one Host::read_paths batch) and returns the actions that
  // bring them to `files`. An empty plan means everything is up to date.
  Result<Plan> plan(const std::vector<RenderedFile>& files);
  // The same from a snapshot that holds at least reads(files) (callers batch several stages).
  Result<Plan> plan(const std::vector<RenderedFile>& files, const PathSnapshot& snapshot);
  // What plan() and inspect() read: each file's installed copy (with contents) and its folder.
  [[nodiscard]] std::vector<PathRead> reads(const std::vector<RenderedFile>& files) const;
  Result<void> apply(const Plan& plan, const ExecOptions& options = {});
  // What is installed now: the VLAN interfaces of the installed interfaces file(s) among
  // `files`' paths and the installed exports.
  // One read batch, plus one `ip -br link` without root_prefix.
  Result<FileserverState> inspect(const std::vector<RenderedFile>& files);
  Result<FileserverState> inspect(const std::vector<RenderedFile>& files, const PathSnapshot& snapshot);
  // The same with `ip -br link`'s answer already there (inspect_links(), pipelined by the caller);
  // nullptr: run it here when needed.
  Result<FileserverState> inspect(const std::vector<RenderedFile>& files, const PathSnapshot& snapshot,
                                  const CommandResult* links);
  // The command inspect() reads interface states with; nullopt with root_prefix set (none read).
  [[nodiscard]] std::optional<std::vector<std::string>> inspect_links() const;

  [[nodiscard]] const Layout& layout() const { return m_layout; }

 private:
  Host& m_host;
  Layout m_layout;
};

}  // namespace picluster::nfsroot
