#include "lab/shelf/images.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/text.hpp"
#include "lab/shelf/files.hpp"
#include "lab/shelf/process.hpp"

namespace picluster::lab {
namespace fs = std::filesystem;
namespace {

constexpr auto kLongStep = std::chrono::minutes(20);

const char* const kFileserverInterfaces =
    "# The lab fileserver. eth0: management (QEMU user networking, SSH forwarded from the host's\n"
    "# loopback). eth1: the trunk to the lab switch; picluster adds its VLAN interfaces in\n"
    "# interfaces.d.\n"
    "source /etc/network/interfaces.d/*\n\n"
    "auto lo\niface lo inet loopback\n\n"
    "auto eth0\niface eth0 inet static\n\taddress 10.0.2.15/24\n\tgateway 10.0.2.2\n\n"
    "auto eth1\niface eth1 inet manual\n\tup ip link set dev eth1 up\n";

const char* const kPiInterfaces =
    "# Replaced by picluster's rendered file for each Pi.\nauto lo\niface lo inet loopback\n";

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(1, sep)) + i;
  return out;
}

Result<void> install_files(const fs::path& root, const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [rel, contents] : files) {
    if (auto r = write_text(root / rel, contents, fs::perms(0644)); !r) return r;
  }
  return {};
}

// The one "<root>/boot/<prefix>-<version>" file mmdebstrap left behind.
Result<fs::path> find_boot_file(const fs::path& root, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "boot", ec)) {
    if (entry.path().filename().string().starts_with(prefix + "-")) return entry.path();
  }
  return fail(ErrorCode::not_found, "no " + prefix + "-* in " + (root / "boot").string());
}

Result<void> mmdebstrap(const Recipe& recipe, const std::vector<std::string>& packages,
                        const std::vector<std::string>& excludes, const fs::path& target, const fs::path& log) {
  std::vector<std::string> argv = {"mmdebstrap", "--variant=minbase", "--mode=root",
                                   "--include=" + join(packages, ','), "--aptopt=Acquire::Retries \"3\";"};
  for (const auto& pattern : excludes) argv.push_back("--dpkgopt=path-exclude=" + pattern);
  argv.insert(argv.end(), {recipe.suite, target.string(), "deb " + recipe.mirror + " " + recipe.suite + " main"});
  return with_context(run_ok(argv, RunOptions{kLongStep, log}), "mmdebstrap " + target.filename().string());
}

Result<void> keygen(const fs::path& key, const std::string& comment) {
  std::error_code ec;
  fs::remove(key, ec);
  fs::remove(key.string() + ".pub", ec);
  return run_ok({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key.string()});
}

// Root password removed (console login in the lab).
Result<void> remove_root_password(const fs::path& root) {
  const fs::path shadow = root / "etc/shadow";
  std::string text = read_text(shadow);
  if (text.starts_with("root:*:")) text.replace(0, 7, "root::");
  if (text.starts_with("root:!*:")) text.replace(0, 8, "root::");
  return write_text(shadow, text, fs::perms(0640));
}

// Root password removed, root's authorized keys installed (the Pi root; the fileserver's key is
// installed by the role).
Result<void> prepare_root_account(const fs::path& root, const std::string& authorized_keys) {
  if (auto r = remove_root_password(root); !r) return r;
  std::error_code ec;
  fs::create_directories(root / "root/.ssh", ec);
  fs::permissions(root / "root/.ssh", fs::perms(0700), ec);
  return write_text(root / "root/.ssh/authorized_keys", authorized_keys, fs::perms(0600));
}

void remove_host_keys(const fs::path& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "etc/ssh", ec)) {
    if (entry.path().filename().string().starts_with("ssh_host_")) fs::remove(entry.path(), ec);
  }
}

// Copies the 802.1Q stack (8021q, garp, mrp, stp, llc) of `version` into the Pi root.
Result<void> copy_vlan_modules(const fs::path& fs_root, const fs::path& pi_root, const std::string& version) {
  const fs::path rel = fs::path("usr/lib/modules") / version;
  std::error_code ec;
  for (const char* sub : {"kernel/net/8021q", "kernel/net/802", "kernel/net/llc"}) {
    fs::create_directories(pi_root / rel / sub, ec);
    fs::copy(fs_root / rel / sub, pi_root / rel / sub, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) return fail(ErrorCode::io, "copy modules " + std::string(sub) + ": " + ec.message());
  }
  for (const char* file : {"modules.order", "modules.builtin", "modules.builtin.modinfo"}) {
    fs::copy_file(fs_root / rel / file, pi_root / rel / file, fs::copy_options::overwrite_existing, ec);
  }
  return run_ok({"chroot", pi_root.string(), "depmod", version});
}

// Step 4: ansible-playbook playbooks/fileservers.yml on the fileserver root through the chroot
// connection. Ansible's own temporary files are removed from the root afterwards.
Result<void> apply_fileserver_role(const fs::path& stage, const Recipe& recipe, const std::string& client_pub,
                                   const fs::path& log) {
  const fs::path fs_root = stage / "fileserver-root";
  const fs::path inventory = stage / "role-inventory.json";
  if (auto r = write_text(inventory, role_chroot_inventory(fs_root, client_pub), fs::perms(0600)); !r) return r;
  const std::vector<std::string> argv = {"env",
                                         "ANSIBLE_CONFIG=" + (recipe.ansible_dir / "ansible.cfg").string(),
                                         "ANSIBLE_NOCOLOR=1",
                                         "ANSIBLE_LOCAL_TEMP=" + (stage / "ansible-tmp").string(),
                                         "ansible-playbook",
                                         "-i",
                                         inventory.string(),
                                         (recipe.ansible_dir / "playbooks/fileservers.yml").string()};
  auto r = run_ok(argv, RunOptions{kLongStep, log});
  std::error_code ec;
  fs::remove_all(fs_root / "root/.ansible", ec);
  fs::remove_all(stage / "ansible-tmp", ec);
  fs::remove(inventory, ec);
  return with_context(std::move(r), "ansible role picluster_fileserver (chroot " + fs_root.string() + ")");
}

// Steps 3 to 5 for the staged roots: keys, accounts, the role, golden image.
Result<void> configure_roots(const fs::path& stage, const Recipe& recipe, const std::string& kernel_version,
                             const fs::path& log) {
  const fs::path fs_root = stage / "fileserver-root";
  const fs::path pi_root = stage / "pi-root";
  if (auto r = copy_vlan_modules(fs_root, pi_root, kernel_version); !r) return r;
  if (auto r = keygen(stage / "client_key", "picluster-lab"); !r) return r;
  if (auto r = keygen(stage / "host_key", "lab-fileserver"); !r) return r;
  if (auto r = keygen(stage / "fileserver_client_key", "lab-fileserver-to-pis"); !r) return r;
  const std::string client_pub = read_text(stage / "client_key.pub");
  const std::string fs_client_pub = read_text(stage / "fileserver_client_key.pub");
  if (auto r = prepare_pi_root(pi_root, recipe, client_pub + fs_client_pub); !r) return r;
  // Fileserver root: the lab's own files, the role (which authorizes the lab client), the pinned
  // host key, its own key to reach the Pis.
  if (auto r = install_files(fs_root, recipe.fileserver_files); !r) return r;
  if (auto r = remove_root_password(fs_root); !r) return r;
  if (auto r = apply_fileserver_role(stage, recipe, client_pub, log); !r) return r;
  remove_host_keys(fs_root);
  std::error_code ec;
  fs::copy_file(stage / "host_key", fs_root / "etc/ssh/ssh_host_ed25519_key", ec);
  fs::copy_file(stage / "host_key.pub", fs_root / "etc/ssh/ssh_host_ed25519_key.pub", ec);
  fs::copy_file(stage / "fileserver_client_key", fs_root / "root/.ssh/id_ed25519", ec);
  fs::copy_file(stage / "fileserver_client_key.pub", fs_root / "root/.ssh/id_ed25519.pub", ec);
  if (ec) return fail(ErrorCode::io, "install keys: " + ec.message());
  fs::permissions(fs_root / "etc/ssh/ssh_host_ed25519_key", fs::perms(0600), ec);
  fs::permissions(fs_root / "root/.ssh/id_ed25519", fs::perms(0600), ec);
  // The golden image: the Pi root, into the folder the role made (with /srv/nfsroot, /srv/tftp).
  if (!fs::is_directory(fs_root / "srv/golden/pi") || !fs::is_directory(fs_root / "srv/nfsroot")) {
    return fail(ErrorCode::io, "the role did not create /srv/golden/pi and /srv/nfsroot in " + fs_root.string());
  }
  return run_ok({"cp", "-a", "--", (pi_root / ".").string(), (fs_root / "srv/golden/pi").string()});
}

// Step 4's disks: /srv (golden image and the empty nfsroot and tftp folders) as a btrfs image,
// then the rest of the fileserver root (with /srv left as an empty mount point) as ext4.
Result<void> make_disks(const fs::path& stage, const Recipe& recipe, const fs::path& log,
                        const std::function<void(const std::string&)>& progress) {
  const fs::path fs_root = stage / "fileserver-root";
  const fs::path srv_img = stage / "srv.img";
  progress("mkfs.btrfs --rootdir: /srv disk image (" + recipe.srv_disk_size + ", sparse)");
  if (auto r = run_ok({"truncate", "-s", recipe.srv_disk_size, srv_img.string()}); !r) return r;
  if (auto r = run_ok({"mkfs.btrfs", "-q", "-f", "-L", "labsrv", "--rootdir", (fs_root / "srv").string(), srv_img.string()},
                      RunOptions{kLongStep, log});
      !r) {
    return r;
  }
  std::error_code ec;
  fs::remove_all(fs_root / "srv", ec);
  fs::create_directories(fs_root / "srv", ec);
  if (ec) return fail(ErrorCode::io, "empty " + (fs_root / "srv").string() + ": " + ec.message());
  progress("mkfs.ext4 -d: fileserver disk image (" + recipe.disk_size + ", sparse)");
  return run_ok({"mkfs.ext4", "-q", "-F", "-L", "labfs", "-d", fs_root.string(), (stage / "fileserver.img").string(),
                 recipe.disk_size},
                RunOptions{kLongStep, log});
}

}  // namespace

Result<fs::path> begin_stage(const fs::path& entry_dir) {
  const fs::path stage = entry_dir.string() + ".stage-" + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(stage, ec);
  fs::create_directories(stage, ec);
  if (ec) return fail(ErrorCode::io, "create " + stage.string() + ": " + ec.message());
  return stage;
}

Result<void> prepare_pi_root(const fs::path& root, const Recipe& recipe, const std::string& authorized_keys) {
  if (auto r = install_files(root, recipe.pi_files); !r) return r;
  if (auto r = prepare_root_account(root, authorized_keys); !r) return r;
  remove_host_keys(root);
  return {};
}

fs::path default_ansible_dir() {
  if (const char* dir = std::getenv("PICLUSTER_ANSIBLE_DIR"); dir != nullptr && *dir != '\0') return dir;
  return PICLUSTER_ANSIBLE_DIR;
}

Result<std::vector<std::pair<std::string, std::string>>> read_role_files(const fs::path& ansible_dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* file : {"ansible.cfg", "playbooks/fileservers.yml"}) {
    if (!fs::is_regular_file(ansible_dir / file)) {
      return fail(ErrorCode::not_found, "no " + (ansible_dir / file).string() + " (set PICLUSTER_ANSIBLE_DIR)");
    }
    out.emplace_back(file, read_text(ansible_dir / file));
  }
  const fs::path role = ansible_dir / "roles/picluster_fileserver";
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> role_files;
  for (auto it = fs::recursive_directory_iterator(role, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) role_files.emplace_back(fs::relative(it->path(), ansible_dir).string(), read_text(it->path()));
  }
  if (ec || role_files.empty()) return fail(ErrorCode::not_found, "no role files in " + role.string() + (ec ? ": " + ec.message() : ""));
  std::sort(role_files.begin(), role_files.end());
  out.insert(out.end(), role_files.begin(), role_files.end());
  return out;
}

std::string role_chroot_inventory(const fs::path& root, const std::string& authorized_key) {
  const nlohmann::json host = {
      {"ansible_connection", "community.general.chroot"},
      {"ansible_host", root.string()},
      {"ansible_python_interpreter", "/usr/bin/python3"},
      // The lab inventory's fileserver (lab.cpp), so the role over SSH later finds it in place.
      {"picluster_nfs_root", "/srv/nfsroot"},
      {"picluster_tftp_root", "/srv/tftp"},
      {"picluster_golden_image", "/srv/golden/pi"},
      {"picluster_boot_mode", "sdcard"},
      {"picluster_fileserver_user", "root"},
      // Installed by mmdebstrap; nothing to fetch.
      {"picluster_apt_update_cache", false},
      // mkfs.btrfs --rootdir copies files, not subvolumes: a plain folder here.
      {"picluster_golden_subvolume", false},
      {"picluster_ssh_public_key", authorized_key.substr(0, authorized_key.find_last_not_of(" \n") + 1)}};
  return nlohmann::json{{"all", {{"children", {{"fileservers", {{"hosts", {{"lab-fileserver", host}}}}}}}}}}.dump(2) + "\n";
}

Result<Recipe> default_recipe() {
  Recipe r;
  r.ansible_dir = default_ansible_dir();
  auto role_files = read_role_files(r.ansible_dir);
  if (!role_files) return std::unexpected(role_files.error());
  r.role_files = std::move(*role_files);
  r.mirror = default_mirror(r.suite);
  r.fileserver_packages = {"systemd-sysv", "udev", "linux-image-amd64", "initramfs-tools",
                           "nfs-kernel-server", "nfs-common", "ifupdown", "vlan", "iproute2",
                           "openssh-server", "kmod", "iputils-ping", "procps", "netbase", "rsync",
                           "nftables", "btrfs-progs",
                           // The rest of the picluster_fileserver role's packages, and python3
                           // with python3-apt for Ansible's modules: the role prepares this root
                           // in a chroot at build time and is applied again over SSH by the lab's
                           // tests, and the VM has no route to a mirror.
                           "rpcbind", "dnsmasq", "xfsprogs", "python3", "python3-apt"};
  r.pi_packages = {"systemd-sysv", "udev", "kmod", "ifupdown", "vlan", "iproute2",
                   "openssh-server", "iputils-ping", "procps", "netbase"};
  r.pi_dpkg_excludes = {"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*",
                        "/usr/share/lintian/*"};
  r.fileserver_files = {
      {"etc/network/interfaces", kFileserverInterfaces},
      {"etc/hostname", "labfs\n"},
      {"etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tlabfs\n"},
      {"etc/fstab", "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n/dev/vdb /srv btrfs defaults 0 0\n"},
      {"etc/ssh/sshd_config.d/lab.conf", "HostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n"},
      {"etc/ssh/ssh_config.d/lab.conf", "StrictHostKeyChecking accept-new\nConnectTimeout 10\n"},
      {"etc/exports", "# picluster writes /etc/exports.d/picluster.exports\n"}};
  r.pi_files = {{"etc/network/interfaces", kPiInterfaces},
                {"etc/hostname", "pi\n"},
                {"etc/ssh/sshd_config.d/lab.conf", "UseDNS no\n"}};
  return r;
}

std::string default_mirror(const std::string& suite) {
  std::error_code ec;
  std::vector<fs::path> files = {"/etc/apt/sources.list"};
  for (const auto& e : fs::directory_iterator("/etc/apt/sources.list.d", ec)) files.push_back(e.path());
  for (const auto& file : files) {
    std::string uri;
    bool suite_ok = false;
    for (const auto& raw : split(read_text(file), '\n')) {
      const std::string line = raw.substr(0, raw.find('#'));
      const auto w = split(line, ' ');
      if (line.starts_with("deb ") && w.size() >= 3 && w[2] == suite) return w[1];
      if (line.starts_with("URIs:")) uri = line.size() > 6 ? line.substr(6) : "";
      if (line.starts_with("Suites:")) suite_ok = (" " + line.substr(7) + " ").find(" " + suite + " ") != std::string::npos;
      if (line.empty() || raw.empty()) {
        if (!uri.empty() && suite_ok) return uri;
        uri.clear();
        suite_ok = false;
      }
    }
    if (!uri.empty() && suite_ok) return uri;
  }
  return "http://deb.debian.org/debian";
}

std::string recipe_key(const Recipe& recipe) {
  std::uint64_t hash = 1469598103934665603ULL;
  const auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
    hash ^= 0xff;  // field separator
    hash *= 1099511628211ULL;
  };
  mix(recipe.suite);
  mix(recipe.mirror);
  for (const auto& p : recipe.fileserver_packages) mix(p);
  mix("|");
  for (const auto& p : recipe.pi_packages) mix(p);
  mix("|");
  for (const auto& p : recipe.pi_dpkg_excludes) mix(p);
  for (const auto& [path, text] : recipe.fileserver_files) mix(path + "\n" + text);
  mix("|");
  for (const auto& [path, text] : recipe.pi_files) mix(path + "\n" + text);
  mix("|");
  for (const auto& [path, text] : recipe.role_files) mix(path + "\n" + text);
  mix(recipe.disk_size);
  mix(recipe.srv_disk_size);
  mix(std::to_string(recipe.version));
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

Images images_at(const fs::path& cache_dir, const Recipe& recipe) {
  return images_at_dir(fs::absolute(cache_dir) / recipe_key(recipe));
}

Images images_at_dir(const fs::path& dir) {
  return Images{dir, dir / "fileserver.img", dir / "srv.img", dir / "vmlinuz", dir / "initrd.img", dir / "client_key",
                dir / "host_key.pub"};
}

bool images_ready(const Images& images) {
  std::error_code ec;
  for (const auto& p : {images.fileserver_disk, images.srv_disk, images.kernel, images.initrd, images.client_key, images.host_key_pub}) {
    if (!fs::is_regular_file(p, ec)) return false;
  }
  return true;
}

Result<Images> ensure_images(const fs::path& cache_dir, const Recipe& recipe,
                             const std::function<void(const std::string&)>& progress) {
  const Images images = images_at(cache_dir, recipe);
  if (images_ready(images)) return images;
  std::error_code ec;
  auto staged = begin_stage(images.dir);
  if (!staged) return std::unexpected(staged.error());
  const fs::path stage = *staged;
  const fs::path log = images.dir.string() + ".build.log";
  fs::remove(log, ec);
  progress("building lab images into " + images.dir.string() + " (log: " + log.string() + ")");
  progress("mmdebstrap fileserver root (" + recipe.mirror + ")");
  if (auto r = mmdebstrap(recipe, recipe.fileserver_packages, {}, stage / "fileserver-root", log); !r) return std::unexpected(r.error());
  progress("mmdebstrap Pi root template");
  if (auto r = mmdebstrap(recipe, recipe.pi_packages, recipe.pi_dpkg_excludes, stage / "pi-root", log); !r) return std::unexpected(r.error());
  auto kernel = find_boot_file(stage / "fileserver-root", "vmlinuz");
  auto initrd = find_boot_file(stage / "fileserver-root", "initrd.img");
  if (!kernel) return std::unexpected(kernel.error());
  if (!initrd) return std::unexpected(initrd.error());
  const std::string version = kernel->filename().string().substr(std::string("vmlinuz-").size());
  fs::copy_file(*kernel, stage / "vmlinuz", ec);
  fs::copy_file(*initrd, stage / "initrd.img", ec);
  if (ec) return fail(ErrorCode::io, "copy kernel: " + ec.message());
  progress("keys, accounts and the golden image (kernel " + version + ")");
  progress("the picluster_fileserver role on the fileserver root (ansible-playbook, chroot)");
  if (auto r = configure_roots(stage, recipe, version, log); !r) return std::unexpected(r.error().with_context("configure roots"));
  if (auto r = make_disks(stage, recipe, log, progress); !r) return std::unexpected(r.error());
  fs::remove_all(stage / "fileserver-root", ec);
  fs::remove_all(stage / "pi-root", ec);
  fs::permissions(stage / "fileserver.img", fs::perms(0444), ec);  // backing files: never written
  fs::permissions(stage / "srv.img", fs::perms(0444), ec);
  fs::rename(stage, images.dir, ec);
  if (ec) return fail(ErrorCode::io, "rename " + stage.string() + " -> " + images.dir.string() + ": " + ec.message());
  return images;
}

}  // namespace picluster::lab
