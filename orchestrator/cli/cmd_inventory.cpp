// Inventory verbs: init, add, remove, list, show, validate, render. list/show/validate/render
// and `--offline` add/remove only read and write the inventory; add and remove otherwise act on
// the switch and the fileserver through the orchestrator (skipping parts not configured yet).

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "bootcfg/bootcfg.hpp"
#include "common/text.hpp"
#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/cli/table.hpp"
#include "orchestrator/enroll.hpp"
#include "orchestrator/verbs.hpp"
#include "orchestrator/watch.hpp"

namespace picluster::cli {
namespace {

namespace fs = std::filesystem;
using inventory::Json;

Result<int> run_init(const Context& ctx, const std::string& shelf_name, bool force, bool dry_run) {
  if (!is_rfc1123_label(shelf_name)) {
    return fail(ErrorCode::invalid_argument,
                "--shelf-name: " + printable(shelf_name) + " is not a name (RFC 1123 label)");
  }
  const fs::path path = ctx.inventory_path;
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return fail(ErrorCode::io,
                path.string() + ": cannot create: folder " + dir.string() + " does not exist");
  }
  // Hold the inventory lock like add and remove do, so --force never replaces a file that
  // another run is in the middle of changing.
  std::optional<inventory::Lock> lock;
  if (!dry_run) {
    auto l = inventory::Lock::acquire(path, /*wait=*/false, /*inventory_may_be_missing=*/true);
    if (!l) return std::unexpected(l.error());
    lock.emplace(std::move(*l));
  }
  if (fs::exists(path) && !force) {
    return fail(ErrorCode::conflict,
                path.string() + ": already exists (use --force to replace it with a new one)");
  }
  auto inv = inventory::make_default(shelf_name);
  inv.source = path;
  const fs::path secrets = dir / inv.shelves.front().switch_.secrets_file;
  if (dry_run) {
    std::cout << "would write " << path.string() << "\n";
    if (!fs::exists(secrets)) std::cout << "would write " << secrets.string() << " (mode 0600)\n";
    return 0;
  }
  if (auto ok = inventory::save(inv, path); !ok) return std::unexpected(ok.error());
  if (!fs::exists(secrets)) {
    // The switch's SNMP secrets live beside the inventory, readable by the owner alone.
    const int fd = ::open(secrets.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(ErrorCode::io, secrets.string() + ": cannot create");
    const std::string text = "{\n  \"community\": \"private\"\n}\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) return fail(ErrorCode::io, secrets.string() + ": write failed");
  }
  std::cout << "wrote " << path.string() << " (shelf " << shelf_name << ") and " << secrets.string()
            << "\n"
            << "next: edit the fileserver and switch endpoints, set the SNMP secrets, then "
               "`picluster add NAME --port N`\n";
  return 0;
}

struct AddOptions {
  std::string name;
  int port = 0;
  std::string model = "pi3";
  std::string serial;
  std::string mac;
  bool dry_run = false;
  bool json = false;
  bool offline = false;
  int wait_mac = 60;      // zero-touch enrollment: seconds to wait for the MAC on the port
  int wait_serial = 120;  // and for the serial in dnsmasq's log
};

// Checks the command line of `add` (exit status 2 on a bad argument, naming it). The port's upper
// bound is the switch's port count, so it is checked against the inventory; a port that is the
// trunk or already taken is a conflict with the inventory instead (exit status 1).
Result<inventory::PiRequest> make_request(const AddOptions& o) {
  inventory::PiRequest r;
  if (!is_rfc1123_label(o.name)) {
    return fail(ErrorCode::invalid_argument,
                "add: NAME " + printable(o.name) +
                    " is not a valid host name (RFC 1123 label: a-z, 0-9, '-', at most 63)");
  }
  r.name = o.name;
  if (o.port < 1) {
    return fail(ErrorCode::invalid_argument,
                "add: --port " + std::to_string(o.port) + " is not a switch port (1 or more)");
  }
  r.port = o.port;
  for (const auto& [flag, value] : {std::pair{"--wait-mac", o.wait_mac}, std::pair{"--wait-serial", o.wait_serial}}) {
    if (value < 1 || value > 3600) {
      return fail(ErrorCode::invalid_argument,
                  std::string("add: ") + flag + " " + std::to_string(value) + " is not 1-3600 seconds");
    }
  }
  const auto model = inventory::parse_pi_model(o.model);
  if (!model) {
    return fail(ErrorCode::invalid_argument,
                "--model: " + printable(o.model) + " is not one of pi3, pi3b+, pi4, pi5");
  }
  r.model = *model;
  if (!o.serial.empty()) {
    std::string lower;
    for (char c : o.serial) lower += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    const bool hex =
        lower.size() == 8 && lower.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex)
      return fail(ErrorCode::invalid_argument,
                  "--serial: " + printable(o.serial) + " is not 8 hex digits");
    r.serial = lower;
  }
  if (!o.mac.empty()) {
    const auto mac = inventory::Mac::parse(o.mac);
    if (!mac)
      return fail(ErrorCode::invalid_argument,
                  "--mac: " + printable(o.mac) + " is not a MAC address");
    r.mac = *mac;
  }
  return r;
}

// --port beyond the chosen shelf's switch is a usage error too.
Result<void> check_port_exists(const Context& ctx, int port) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  auto shelf = select_shelf(*inv, ctx);
  if (!shelf) return std::unexpected(shelf.error());
  const int count = (*shelf)->switch_.port_count;
  if (port > count) {
    return fail(ErrorCode::invalid_argument,
                "add: --port " + std::to_string(port) + " is outside the switch's ports 1-" +
                    std::to_string(count) + " (shelf " + printable((*shelf)->name) + ")");
  }
  return {};
}

void print_pi_summary(const inventory::Shelf& shelf, const inventory::Pi& pi) {
  std::cout << pi.name << ": shelf " << shelf.name << ", port " << pi.port << ", VLAN " << pi.vlan
            << ", storage " << pi.storage.network.str() << "/30 (pi " << pi.storage.pi.str()
            << ", fileserver " << pi.storage.fileserver.str() << "), public " << pi.ipv6.str()
            << "\n";
}

// add: allocate, switch port, VLAN interface, root, export, boot files, PoE on.
Result<int> run_add_live(const Context& ctx, const AddOptions& o,
                         const inventory::PiRequest& request) {
  StepPrinter printer(o.json);
  orchestrator::EnrollOptions enroll;
  enroll.wait_mac = std::chrono::seconds(o.wait_mac);
  enroll.wait_serial = std::chrono::seconds(o.wait_serial);
  auto added = orchestrator::add_or_enroll(verb_context(ctx, o.dry_run, printer.reporter()), request, enroll);
  inventory::Json extra = inventory::Json::object();
  if (added) extra["pi"] = inventory::to_json(added->pi);
  if (added && added->enrolled && !o.dry_run) {
    // What zero-touch enrollment learned, and from where.
    extra["learned"] = {{"mac", added->pi.mac ? added->pi.mac->str() : ""},
                        {"mac_from", added->mac_evidence},
                        {"serial", added->pi.serial.value_or("")},
                        {"serial_from", added->serial_evidence}};
  }
  printer.finish(added ? Result<void>{} : Result<void>(std::unexpected(added.error())), extra);
  if (!added) return std::unexpected(added.error());
  return 0;
}

Result<int> run_add(const Context& ctx, const AddOptions& o) {
  auto request = make_request(o);
  if (!request) return std::unexpected(request.error());
  if (auto ok = check_port_exists(ctx, o.port); !ok) return std::unexpected(ok.error());
  if (!o.offline) return run_add_live(ctx, o, *request);
  inventory::Pi added;
  inventory::Shelf shelf_copy;
  auto ok = modify_inventory(ctx, o.dry_run, [&](inventory::Inventory& inv) -> Result<void> {
    auto shelf = select_shelf(inv, ctx);
    if (!shelf) return std::unexpected(shelf.error());
    if (const auto* other = inv.shelf_of(o.name)) {
      return fail(ErrorCode::conflict, inv.source.string() + ": pi " + printable(o.name) +
                                           " already exists on shelf " + printable(other->name));
    }
    auto pi = inventory::add_pi(**shelf, *request);
    if (!pi) return std::unexpected(pi.error().with_context(inv.source.string()));
    added = *pi;
    shelf_copy = **shelf;
    return {};
  });
  if (o.json) {
    // The same document as a live add: {"pi", "ok", "steps", "error"}, the live steps skipped.
    StepPrinter printer(true);
    auto report = printer.reporter();
    if (ok) {
      report({added.name, "allocate", o.dry_run ? "planned" : "ok",
              "VLAN " + std::to_string(added.vlan) + ", " + added.storage.network.str() + "/30, " +
                  added.ipv6.str()});
      report({added.name, "apply", "skipped",
              "--offline: switch and fileserver untouched (run `picluster apply` later)"});
    }
    Json extra = Json::object();
    if (ok) extra["pi"] = inventory::to_json(added);
    printer.finish(ok, extra);
  }
  if (!ok) return std::unexpected(ok.error());
  if (!o.json) {
    if (o.dry_run) std::cout << "dry run: would add ";
    print_pi_summary(shelf_copy, added);
  }
  return 0;
}

Result<int> run_remove_live(const Context& ctx, const std::string& name, bool dry_run, bool keep,
                            bool force, bool json) {
  StepPrinter printer(json);
  auto done =
      orchestrator::remove_pi(verb_context(ctx, dry_run, printer.reporter()), name, keep, force);
  printer.finish(done);
  if (!done) return std::unexpected(done.error());
  return 0;
}

Result<int> run_remove(const Context& ctx, const std::string& name, bool dry_run) {
  auto ok = modify_inventory(ctx, dry_run, [&](inventory::Inventory& inv) -> Result<void> {
    for (auto& shelf : inv.shelves) {
      if (shelf.find_pi(name) != nullptr) {
        auto removed = inventory::remove_pi(shelf, name);
        if (!removed) return std::unexpected(removed.error());
        return {};
      }
    }
    return fail(ErrorCode::not_found, inv.source.string() + ": no pi named " + printable(name));
  });
  if (!ok) return std::unexpected(ok.error());
  std::cout << (dry_run ? "dry run: would remove " : "removed ") << name << " from "
            << ctx.inventory_path << "\n";
  return 0;
}

Result<int> run_list(const Context& ctx, bool json) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  Json out = Json::array();
  Table table(
      {"NAME", "SHELF", "PORT", "VLAN", "PI", "FILESERVER", "IPV6", "MODEL", "SERIAL", "MAC"});
  for (const auto& shelf : inv->shelves) {
    if (!ctx.shelf.empty() && shelf.name != ctx.shelf) continue;
    for (const auto& pi : shelf.pis) {
      Json j = inventory::to_json(pi);
      j["shelf"] = shelf.name;
      out.push_back(j);
      table.add({pi.name, shelf.name, std::to_string(pi.port), std::to_string(pi.vlan),
                 pi.storage.pi.str(), pi.storage.fileserver.str(), pi.ipv6.str(),
                 std::string(to_string(pi.model)), pi.serial.value_or("-"),
                 pi.mac ? pi.mac->str() : "-"});
    }
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    table.print(std::cout);
  }
  return 0;
}

Result<int> run_show(const Context& ctx, const std::string& name, bool json) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  const auto* shelf = inv->shelf_of(name);
  if (shelf == nullptr) {
    return fail(ErrorCode::not_found, inv->source.string() + ": no pi named " + printable(name));
  }
  const auto& pi = *shelf->find_pi(name);
  const std::string cmdline = bootcfg::render_cmdline(*shelf, pi);
  if (json) {
    Json j = inventory::to_json(pi);
    j["shelf"] = shelf->name;
    j["cmdline"] = cmdline;
    j["nfs_root"] = bootcfg::nfs_root_of(*shelf, pi);
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  Table t({"FIELD", "VALUE"});
  t.add({"name", pi.name});
  t.add({"shelf", shelf->name});
  t.add({"port", std::to_string(pi.port)});
  t.add({"model", std::string(to_string(pi.model))});
  t.add({"serial", pi.serial.value_or("-")});
  t.add({"mac", pi.mac ? pi.mac->str() : "-"});
  t.add({"storage vlan", std::to_string(pi.vlan)});
  t.add({"storage network", pi.storage.network.str() + "/30"});
  t.add({"pi address", pi.storage.pi.str()});
  t.add({"fileserver address", pi.storage.fileserver.str()});
  t.add({"broadcast", pi.storage.broadcast.str()});
  t.add({"public vlan", std::to_string(shelf->public_net.vlan)});
  t.add({"public address", pi.ipv6.str()});
  t.add({"nfs root", bootcfg::nfs_root_of(*shelf, pi)});
  t.print(std::cout);
  std::cout << "cmdline.txt: " << cmdline << "\n";
  return 0;
}

Result<int> run_validate(const Context& ctx) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  std::size_t pis = 0;
  for (const auto& shelf : inv->shelves) {
    // Each section's own checks too, so a file validate accepts is one every verb accepts.
    if (auto ok = orchestrator::check_watch_section(shelf); !ok) {
      return std::unexpected(ok.error().with_context(ctx.inventory_path));
    }
    pis += shelf.pis.size();
  }
  std::cout << ctx.inventory_path << ": ok (" << inv->shelves.size()
            << (inv->shelves.size() == 1 ? " shelf, " : " shelves, ") << pis
            << (pis == 1 ? " pi)" : " pis)") << "\n";
  return 0;
}

// `render --out DIR` leaves DIR holding exactly the rendered tree. DIR gets a marker file; a DIR
// with the marker is a previous render and is replaced whole, a non-empty DIR without it belongs to
// someone else and is refused. The tree is written into the sibling DIR.tmp first and then swapped
// in with one rename, so DIR is never half old, half new.
constexpr std::string_view kRenderMarker = ".picluster-render";

bool is_previous_render(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kRenderMarker, ec);
}

Result<void> write_files(const fs::path& root, const std::vector<RenderedFile>& files) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return fail(ErrorCode::io, root.string() + ": " + ec.message());
  std::ofstream marker(root / kRenderMarker, std::ios::binary | std::ios::trunc);
  marker << "Written by `picluster render`; the next render into this folder replaces it whole.\n";
  if (!marker) return fail(ErrorCode::io, (root / kRenderMarker).string() + ": write failed");
  marker.close();
  for (const auto& file : files) {
    const fs::path target = root / file.path;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fail(ErrorCode::io, target.parent_path().string() + ": " + ec.message());
    std::ofstream f(target, std::ios::binary | std::ios::trunc);
    f << file.contents;
    if (!f) return fail(ErrorCode::io, target.string() + ": write failed");
    f.close();
    fs::permissions(target, static_cast<fs::perms>(file.mode), ec);
  }
  return {};
}

// Moves the finished tree `tmp` to `dir`, exchanging it with a previous render when there is one.
Result<void> swap_in(const fs::path& tmp, const fs::path& dir, bool replace) {
  std::error_code ec;
  if (!replace) {  // no DIR, or an empty one: rename(2) replaces an empty folder atomically
    fs::rename(tmp, dir, ec);
    if (ec) return fail(ErrorCode::io, dir.string() + ": " + ec.message());
    return {};
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
    // A file system without RENAME_EXCHANGE: two renames, with a short window without DIR.
    const fs::path old = dir.string() + ".old";
    fs::remove_all(old, ec);
    fs::rename(dir, old, ec);
    if (!ec) fs::rename(tmp, dir, ec);
    if (ec) return fail(ErrorCode::io, dir.string() + ": replace previous render: " + ec.message());
    fs::remove_all(old, ec);
    return {};
  }
  fs::remove_all(tmp, ec);  // now the previous render
  return {};
}

Result<void> write_tree(const fs::path& out, const std::vector<RenderedFile>& files) {
  fs::path dir = out.lexically_normal();
  if (dir.filename().empty() && dir.has_parent_path()) dir = dir.parent_path();  // "out/"
  std::error_code ec;
  bool replace = false;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    if (!fs::is_directory(fs::symlink_status(dir, ec))) {
      return fail(ErrorCode::conflict, dir.string() + ": exists and is not a folder");
    }
    replace = !fs::is_empty(dir, ec);
    if (replace && !is_previous_render(dir)) {
      return fail(ErrorCode::conflict,
                  dir.string() + ": not empty and not a previous `picluster render` (no " +
                      std::string(kRenderMarker) +
                      "); refusing to replace it: choose a new or empty folder");
    }
  }
  const fs::path tmp = dir.string() + ".tmp";
  if (fs::exists(fs::symlink_status(tmp, ec))) {
    if (!is_previous_render(tmp)) {
      return fail(ErrorCode::conflict, tmp.string() +
                                           ": exists and is not an unfinished `picluster render`; "
                                           "move it away first");
    }
    fs::remove_all(tmp, ec);  // left by an interrupted render
  }
  if (auto ok = write_files(tmp, files); !ok) {
    fs::remove_all(tmp, ec);
    return ok;
  }
  if (auto ok = swap_in(tmp, dir, replace); !ok) {
    fs::remove_all(tmp, ec);
    return ok;
  }
  return {};
}

Result<int> run_render(const Context& ctx, const std::string& out, std::vector<std::string> names) {
  auto inv = load_inventory(ctx);
  if (!inv) return std::unexpected(inv.error());
  for (const auto& name : names) {
    if (inv->shelf_of(name) == nullptr) {
      return fail(ErrorCode::not_found, inv->source.string() + ": no pi named " + printable(name));
    }
  }
  if (!ctx.shelf.empty()) {
    if (auto shelf = select_shelf(*inv, ctx); !shelf) return std::unexpected(shelf.error());
    std::erase_if(inv->shelves, [&](const auto& s) { return s.name != ctx.shelf; });
  }
  const auto files = bootcfg::render_tree(*inv, names);
  if (out.empty()) {
    for (const auto& file : files) std::cout << "==> " << file.path << " <==\n" << file.contents;
    return 0;
  }
  if (auto ok = write_tree(out, files); !ok) return std::unexpected(ok.error());
  std::cout << "rendered " << files.size() << " files into " << out << "\n";
  return 0;
}

}  // namespace

void register_inventory_commands(CLI::App& app, Context& ctx) {
  // Option values live in shared state captured by each callback (CLI11 binds by reference).
  struct InitOptions {
    std::string shelf_name = "shelf1";
    bool force = false;
    bool dry_run = false;
  };
  auto init_opts = std::make_shared<InitOptions>();
  auto* init = app.add_subcommand("init", "Create a new inventory with one shelf and defaults");
  init->add_option("--shelf-name", init_opts->shelf_name, "Name of the first shelf")
      ->capture_default_str();
  init->add_flag("--force", init_opts->force, "Replace an existing inventory");
  init->add_flag("-n,--dry-run", init_opts->dry_run, "Show what would be written");
  init->callback([&ctx, init_opts] {
    ctx.action = [&ctx, init_opts] {
      return run_init(ctx, init_opts->shelf_name, init_opts->force, init_opts->dry_run);
    };
  });

  auto add_opts = std::make_shared<AddOptions>();
  auto* add = app.add_subcommand(
      "add",
      "Add a Pi: allocate its VLAN, /30 and IPv6 address, then set up its switch port, fileserver "
      "VLAN interface, root, export, boot files and PoE (--offline: inventory only)");
  add->add_option("name", add_opts->name, "Pi name (RFC 1123 label, e.g. pi09)")->required();
  add->add_option("-p,--port", add_opts->port, "Switch port the Pi is plugged into")->required();
  add->add_option("--model", add_opts->model, "pi3, pi3b+, pi4 or pi5")->capture_default_str();
  add->add_option("--serial", add_opts->serial, "Board serial, 8 hex digits (netboot)");
  add->add_option("--mac", add_opts->mac, "Ethernet MAC address");
  add->add_flag("-n,--dry-run", add_opts->dry_run, "Show the allocation without writing it");
  add->add_flag("--json", add_opts->json, "Print the new Pi and the steps as JSON");
  add->add_flag("--offline", add_opts->offline,
                "Only allocate in the inventory; touch no switch or fileserver (apply later)");
  add->add_option("--wait-mac", add_opts->wait_mac,
                  "Netboot shelf, no --mac/--serial: seconds to wait for the Pi's MAC on its port")
      ->capture_default_str();
  add->add_option("--wait-serial", add_opts->wait_serial,
                  "Netboot shelf, no --mac/--serial: seconds to wait for its serial in dnsmasq's log")
      ->capture_default_str();
  add->callback(
      [&ctx, add_opts] { ctx.action = [&ctx, add_opts] { return run_add(ctx, *add_opts); }; });

  struct NameOptions {
    std::string name;
    bool dry_run = false;
    bool json = false;
    bool offline = false;
    bool keep = false;
    bool force = false;
  };
  auto remove_opts = std::make_shared<NameOptions>();
  auto* remove =
      app.add_subcommand("remove",
                         "Remove a Pi: PoE off, release its switch port, remove its boot files, "
                         "unexport and delete (or --keep) its root, drop its VLAN interface, then "
                         "drop it from the inventory (--offline: inventory only)");
  remove->add_option("name", remove_opts->name, "Pi name")->required();
  remove->add_flag("-n,--dry-run", remove_opts->dry_run, "Show what would change without writing");
  remove->add_flag("--offline", remove_opts->offline, "Only remove it from the inventory");
  remove->add_flag("--keep", remove_opts->keep, "Archive the Pi's root instead of deleting it");
  remove->add_flag("--force", remove_opts->force,
                   "Power off even if another MAC is learned on the port");
  remove->add_flag("--json", remove_opts->json, "Print the steps as JSON");
  remove->callback([&ctx, remove_opts] {
    ctx.action = [&ctx, remove_opts] {
      const auto& o = *remove_opts;
      if (o.offline) return run_remove(ctx, o.name, o.dry_run);
      return run_remove_live(ctx, o.name, o.dry_run, o.keep, o.force, o.json);
    };
  });

  auto list_opts = std::make_shared<NameOptions>();
  auto* list = app.add_subcommand("list", "List the Pis with their allocations");
  list->add_flag("--json", list_opts->json, "Print JSON");
  list->callback([&ctx, list_opts] {
    ctx.action = [&ctx, list_opts] { return run_list(ctx, list_opts->json); };
  });

  auto show_opts = std::make_shared<NameOptions>();
  auto* show = app.add_subcommand("show", "Show one Pi, with its kernel command line");
  show->add_option("name", show_opts->name, "Pi name")->required();
  show->add_flag("--json", show_opts->json, "Print JSON");
  show->callback([&ctx, show_opts] {
    ctx.action = [&ctx, show_opts] { return run_show(ctx, show_opts->name, show_opts->json); };
  });

  auto* validate =
      app.add_subcommand("validate", "Check the inventory and report the first problem");
  validate->callback([&ctx] { ctx.action = [&ctx] { return run_validate(ctx); }; });

  struct RenderOptions {
    std::string out;
    std::vector<std::string> names;
  };
  auto render_opts = std::make_shared<RenderOptions>();
  auto* render = app.add_subcommand("render", "Render every file picluster would install");
  render->add_option("--out", render_opts->out, "Write the tree into this folder (default: print)");
  render->add_option("names", render_opts->names, "Only these Pis (default: all)");
  render->callback([&ctx, render_opts] {
    ctx.action = [&ctx, render_opts] {
      return run_render(ctx, render_opts->out, render_opts->names);
    };
  });
}

}  // namespace picluster::cli
