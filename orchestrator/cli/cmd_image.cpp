// `picluster image ...`: build, import, list, show, remove, exec, diff and stage the Pis' root
// images on the shelf's fileserver (image/). The work happens on the fileserver over the shelf's
// Host (SSH, or this machine for the local transport); this file parses, prints and decides
// nothing else.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "bootcfg/bootcfg.hpp"
#include "image/boot_set.hpp"
#include "image/build.hpp"
#include "image/exec.hpp"
#include "image/import.hpp"
#include "image/packages.hpp"
#include "nfsroot/actions.hpp"
#include "orchestrator/cli/cli.hpp"
#include "orchestrator/cli/report.hpp"
#include "orchestrator/cli/table.hpp"
#include "orchestrator/images.hpp"

namespace picluster::cli {

namespace {

using image::Json;

struct ImageArgs {
  std::string name;
  std::string file;
  std::string arch;
  std::string suite;
  std::string mirror;
  std::string recipe;
  std::vector<std::string> packages;
  std::vector<std::string> refs;
  std::vector<std::string> command;
  bool dry_run = false;
  bool json = false;
  bool force = false;
};

// The shelf's session (for its fileserver Host) and an image store on it.
struct Opened {
  std::unique_ptr<orchestrator::ShelfSession> session;
  nfsroot::Host* host = nullptr;
  std::unique_ptr<image::Store> store;
};

Result<Opened> open_store(const Context& ctx, bool dry_run) {
  Opened o;
  auto session = orchestrator::open_session(verb_context(ctx, dry_run, {}), "image");
  if (!session) return std::unexpected(session.error());
  o.session = std::move(*session);
  auto host = o.session->host();
  if (!host) return std::unexpected(host.error().with_context("fileserver of shelf '" + o.session->shelf().name + "'"));
  o.host = *host;
  o.store = std::make_unique<image::Store>(*o.host, o.session->shelf().fileserver);
  return o;
}

image::Options options_for(const ImageArgs& a) {
  image::Options o;
  o.dry_run = a.dry_run;
  if (!a.json) {
    o.progress = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
  }
  return o;
}

Result<inventory::ImageRef> parse_ref(const std::string& text, bool need_version) {
  auto ref = inventory::parse_image_ref(text);
  if (!ref) return fail(ErrorCode::invalid_argument, printable(text) + " is not an image (NAME or NAME@N)");
  if (need_version && !ref->version) return fail(ErrorCode::invalid_argument, printable(text) + ": give a version, NAME@N");
  return *ref;
}

int print_meta(const ImageArgs& a, const image::ImageMeta& m, const std::string& verb) {
  if (a.json) {
    Json j = image::to_json(m);
    j["dry_run"] = a.dry_run;
    std::cout << j.dump(2) << "\n";
  } else if (!a.dry_run) {
    std::cout << verb << " " << m.name << "@" << m.version << " (" << m.arch << ", " << m.method << ")\n";
  }
  return 0;
}

Result<int> run_build(const Context& ctx, const ImageArgs& a) {
  image::BuildRequest req;
  req.name = a.name;
  if (auto ref = inventory::parse_image_ref(a.name); !ref || ref->version) {
    return fail(ErrorCode::invalid_argument, "image name " + printable(a.name) + ": want 1-63 of [a-z0-9._-], no @N");
  }
  req.recipe_source = "command line";
  if (!a.recipe.empty()) {
    std::ifstream in(a.recipe);
    if (!in) return fail(ErrorCode::not_found, a.recipe + ": cannot read the recipe");
    std::stringstream ss;
    ss << in.rdbuf();
    auto recipe = image::parse_recipe(ss.str(), a.recipe);
    if (!recipe) return std::unexpected(recipe.error());
    req.recipe = *recipe;
    req.recipe_source = a.recipe;
  }
  if (!a.arch.empty()) req.recipe.arch = a.arch;
  if (!a.suite.empty()) req.recipe.suite = a.suite;
  if (!a.mirror.empty()) req.recipe.mirror = a.mirror;
  for (const auto& p : a.packages) req.recipe.packages.push_back(p);
  // Command-line values go through the recipe's own checks.
  auto checked = image::parse_recipe(image::to_json(req.recipe).dump(), "image build");
  if (!checked) return std::unexpected(checked.error());
  auto o = open_store(ctx, a.dry_run);
  if (!o) return std::unexpected(o.error());
  auto meta = image::build_image(*o->store, req, options_for(a));
  if (!meta) return std::unexpected(meta.error());
  return print_meta(a, *meta, "built");
}

Result<int> run_import(const Context& ctx, const ImageArgs& a) {
  auto o = open_store(ctx, a.dry_run);
  if (!o) return std::unexpected(o.error());
  std::string file = a.file;
  if (o->session->shelf().fileserver.transport == inventory::Transport::local) {
    file = std::filesystem::absolute(file).string();
  }
  auto meta = image::import_image(*o->store, {file, a.name}, options_for(a));
  if (!meta) return std::unexpected(meta.error());
  return print_meta(a, *meta, "imported");
}

Result<int> run_list(const Context& ctx, const ImageArgs& a) {
  auto o = open_store(ctx, false);
  if (!o) return std::unexpected(o.error());
  auto rows = orchestrator::list_images(*o->store, o->session->shelf());
  if (!rows) return std::unexpected(rows.error());
  if (a.json) {
    Json j = Json::array();
    for (const auto& r : *rows) {
      Json e = image::to_json(r.meta);
      e["bytes"] = r.bytes;
      e["pis"] = r.pis;
      j.push_back(e);
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  Table t({"IMAGE", "ARCH", "SIZE", "CREATED", "FROM", "PIS"});
  for (const auto& r : *rows) {
    std::string pis;
    for (const auto& p : r.pis) pis += (pis.empty() ? "" : ",") + p;
    t.add({r.meta.name + "@" + std::to_string(r.meta.version), r.meta.arch, human_bytes(r.bytes), r.meta.created,
           r.meta.source + " " + r.meta.from, pis.empty() ? "-" : pis});
  }
  t.print(std::cout);
  return 0;
}

Result<int> run_show(const Context& ctx, const ImageArgs& a) {
  auto ref = parse_ref(a.refs.front(), false);
  if (!ref) return std::unexpected(ref.error());
  auto o = open_store(ctx, false);
  if (!o) return std::unexpected(o.error());
  auto n = o->store->resolve(*ref);
  if (!n) return std::unexpected(n.error());
  auto meta = o->store->meta(ref->name, *n);
  if (!meta) return std::unexpected(meta.error());
  const std::string root = o->store->root_of(ref->name, *n);
  auto packages = image::root_packages(*o->host, root);
  if (!packages) return std::unexpected(packages.error());
  auto boot = image::read_boot_set(*o->host, root);
  Json j = image::to_json(*meta);
  j["root"] = root;
  j["packages"] = packages->size();
  if (boot) {
    j["boot_set"] = {{"files", boot->files}, {"kernel", boot->kernel}, {"initramfs", boot->initramfs},
                     {"dtbs", boot->dtbs}, {"missing", boot->missing}};
  } else {
    j["boot_set"] = nullptr;
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << meta->name << "@" << meta->version << "\n"
            << "  arch:      " << meta->arch << "\n"
            << "  created:   " << meta->created << "\n"
            << "  from:      " << meta->source << " " << meta->from << "\n"
            << "  made by:   " << meta->method << "\n"
            << "  root:      " << root << "\n"
            << "  kernel:    " << (meta->kernel.empty() ? "-" : meta->kernel) << "\n"
            << "  packages:  " << packages->size() << "\n";
  if (!boot) {
    std::cout << "  boot set:  none (" << boot.error().message << ")\n";
    return 0;
  }
  std::cout << "  boot set:  " << boot->files.size() << " files, kernel " << (boot->kernel.empty() ? "(firmware default)" : boot->kernel)
            << ", initramfs " << (boot->initramfs.empty() ? "-" : boot->initramfs) << "\n"
            << "  DTBs:     ";
  for (const auto& d : boot->dtbs) std::cout << " " << d;
  std::cout << "\n";
  if (!boot->missing.empty()) {
    std::cout << "  missing:  ";
    for (const auto& m : boot->missing) std::cout << " " << m;
    std::cout << "\n";
  }
  return 0;
}

Result<int> run_remove(const Context& ctx, const ImageArgs& a) {
  auto ref = parse_ref(a.refs.front(), true);
  if (!ref) return std::unexpected(ref.error());
  auto o = open_store(ctx, a.dry_run);
  if (!o) return std::unexpected(o.error());
  auto n = o->store->resolve(*ref);
  if (!n) return std::unexpected(n.error());
  auto records = image::root_records(*o->host, o->session->shelf());
  if (!records) return std::unexpected(records.error());
  std::string users;
  for (const auto& [pi, rec] : *records) {
    if (rec == ref->str()) users += (users.empty() ? "" : ", ") + pi;
  }
  if (!users.empty() && !a.force) {
    return fail(ErrorCode::refused, "image " + ref->str() + " is in use by " + users +
                                        "; rebuild them from another version first, or --force");
  }
  if (a.dry_run) {
    std::cout << "would remove " << o->store->version_dir(ref->name, *n) << "\n";
    return 0;
  }
  if (auto r = o->store->remove(ref->name, *n); !r) return std::unexpected(r.error().with_context("image remove " + ref->str()));
  std::cout << "removed " << ref->str() << (users.empty() ? "" : " (still the origin of " + users + ")") << "\n";
  return 0;
}

Result<int> run_exec(const Context& ctx, const ImageArgs& a) {
  auto ref = parse_ref(a.name, false);
  if (!ref) return std::unexpected(ref.error());
  auto o = open_store(ctx, a.dry_run);
  if (!o) return std::unexpected(o.error());
  auto r = image::exec_image(*o->store, {*ref, a.command}, options_for(a));
  if (!r) return std::unexpected(r.error());
  return print_meta(a, r->meta, "kept");
}

Result<int> run_diff(const Context& ctx, const ImageArgs& a) {
  auto o = open_store(ctx, false);
  if (!o) return std::unexpected(o.error());
  std::vector<image::Packages> sides;
  for (const auto& text : a.refs) {
    auto ref = parse_ref(text, false);
    if (!ref) return std::unexpected(ref.error());
    auto n = o->store->resolve(*ref);
    if (!n) return std::unexpected(n.error());
    auto p = image::root_packages(*o->host, o->store->root_of(ref->name, *n));
    if (!p) return std::unexpected(p.error());
    sides.push_back(std::move(*p));
  }
  const auto d = image::diff_packages(sides[0], sides[1]);
  if (a.json) {
    const auto list = [](const std::vector<image::PackageChange>& v) {
      Json arr = Json::array();
      for (const auto& c : v) arr.push_back({{"package", c.package}, {"from", c.from}, {"to", c.to}});
      return arr;
    };
    std::cout << Json{{"added", list(d.added)}, {"removed", list(d.removed)}, {"upgraded", list(d.changed)}}.dump(2) << "\n";
    return 0;
  }
  for (const auto& c : d.added) std::cout << "+ " << c.package << " " << c.to << "\n";
  for (const auto& c : d.removed) std::cout << "- " << c.package << " " << c.from << "\n";
  for (const auto& c : d.changed) std::cout << "~ " << c.package << " " << c.from << " -> " << c.to << "\n";
  if (d.empty()) std::cout << "no package changes\n";
  return 0;
}

Result<int> run_stage(const Context& ctx, const ImageArgs& a) {
  auto o = open_store(ctx, a.dry_run);
  if (!o) return std::unexpected(o.error());
  const auto& shelf = o->session->shelf();
  for (const auto& name : a.refs) {
    const inventory::Pi* pi = shelf.find_pi(name);
    if (pi == nullptr) return fail(ErrorCode::not_found, "no Pi named " + printable(name) + " in shelf " + shelf.name);
    auto staged = orchestrator::stage_boot_set(*o->store, shelf, *pi, a.dry_run);
    if (!staged) return std::unexpected(staged.error());
    std::cout << name << ": " << *staged << "\n";
  }
  return 0;
}

void add_common(CLI::App* cmd, ImageArgs& a, bool dry_run, bool json) {
  if (dry_run) cmd->add_flag("--dry-run", a.dry_run, "Check and print what would be done, change nothing");
  if (json) cmd->add_flag("--json", a.json, "Machine-readable output, no progress lines");
}

template <typename F>
void on_run(CLI::App* cmd, Context& ctx, std::shared_ptr<ImageArgs> a, F run) {
  cmd->callback([&ctx, a, run] { ctx.action = [&ctx, a, run] { return run(ctx, *a); }; });
}

}  // namespace

void register_image_commands(CLI::App& app, Context& ctx) {
  auto* image = app.add_subcommand("image", "Pi root images on the fileserver: build, import, versions, exec, diff");
  image->require_subcommand(1);

  auto b = std::make_shared<ImageArgs>();
  auto* build = image->add_subcommand("build", "Build a Debian root for the Pis with mmdebstrap (a new version NAME@N)");
  build->add_option("name", b->name, "Image name")->required();
  build->add_option("--arch", b->arch, "arm64 (default) or armhf");
  build->add_option("--suite", b->suite, "Debian suite (default bookworm)");
  build->add_option("--mirror", b->mirror, "Debian mirror URL");
  build->add_option("--package", b->packages, "Extra package (repeatable)");
  build->add_option("--recipe", b->recipe, "Recipe file (JSON: suite, arch, mirror, packages, files)");
  add_common(build, *b, true, true);
  on_run(build, ctx, b, run_build);

  auto i = std::make_shared<ImageArgs>();
  auto* imp = image->add_subcommand("import", "Import a Raspberry Pi OS .img or .img.xz (on the fileserver) as a new version");
  imp->add_option("file", i->file, "Image file on the fileserver")->required();
  imp->add_option("name", i->name, "Image name (default: from the file name)");
  add_common(imp, *i, true, true);
  on_run(imp, ctx, i, run_import);

  auto l = std::make_shared<ImageArgs>();
  auto* list = image->add_subcommand("list", "Images and versions: arch, size, created, from what, which Pis run them");
  add_common(list, *l, false, true);
  on_run(list, ctx, l, run_list);

  auto s = std::make_shared<ImageArgs>();
  auto* show = image->add_subcommand("show", "One version: packages, kernel, boot set");
  show->add_option("image", s->refs, "NAME or NAME@N")->required()->expected(1);
  add_common(show, *s, false, true);
  on_run(show, ctx, s, run_show);

  auto r = std::make_shared<ImageArgs>();
  auto* remove = image->add_subcommand("remove", "Delete a version (refused while a Pi's root came from it)");
  remove->add_option("image", r->refs, "NAME@N")->required()->expected(1);
  remove->add_flag("--force", r->force, "Remove even when Pi roots were built from it");
  add_common(remove, *r, true, false);
  on_run(remove, ctx, r, run_remove);

  auto e = std::make_shared<ImageArgs>();
  auto* exec = image->add_subcommand("exec", "Run a command in a chroot of a new version (kept only if it succeeds)");
  exec->add_option("image", e->name, "NAME or NAME@N")->required();
  exec->add_option("command", e->command, "Command and arguments (after --)")->required();
  add_common(exec, *e, true, true);
  on_run(exec, ctx, e, run_exec);

  auto d = std::make_shared<ImageArgs>();
  auto* diff = image->add_subcommand("diff", "Packages added, removed and upgraded between two versions");
  diff->add_option("images", d->refs, "NAME@A NAME@B")->required()->expected(2);
  add_common(diff, *d, false, true);
  on_run(diff, ctx, d, run_diff);

  auto st = std::make_shared<ImageArgs>();
  auto* stage = image->add_subcommand("stage", "Copy each Pi's boot set (from the image version its root runs) to its TFTP folder");
  stage->add_option("names", st->refs, "Pi names")->required();
  add_common(stage, *st, true, false);
  on_run(stage, ctx, st, run_stage);
}

}  // namespace picluster::cli
