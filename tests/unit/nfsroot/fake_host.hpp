#pragma once
// A recording fake Host for unit tests: an in-memory filesystem (lstat semantics, symlinks are
// never followed) plus emulations of the handful of commands nfsroot runs (stat -f/-c, btrfs
// subvolume snapshot/delete, cp -a --reflink, rsync, rm -rf, find -delete, ssh-keygen -t/-f). Every argv is
// recorded. crash_after(n) makes the n+1-th effectful call and every call after it fail, like a
// connection dropped or a process killed mid-way.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "nfsroot/host.hpp"

namespace picluster::nfsroot::testing {

struct Node {
  FileType type = FileType::regular;
  std::string contents;  // file contents, or the symlink's target
  unsigned mode = 0644;
  bool operator==(const Node&) const = default;
};

class FakeHost final : public Host {
 public:
  std::map<std::string, Node> fs;        // absolute path -> node; "/" is implicit
  std::vector<std::vector<std::string>> commands;  // every argv run, in order
  std::vector<std::string> log;          // every effectful operation, in order
  std::map<std::string, std::string> fs_type;  // path prefix -> `stat -f -c %T` answer
  std::map<std::string, std::string> fs_source;  // path prefix -> findmnt's SOURCE device
  std::set<std::string> subvolumes;      // paths whose inode is 256
  std::set<std::string> failing;         // argv[0] values that exit 1
  std::string xfs_info_output;           // xfs_info's stdout ("" = exit 1)
  int keygen_count = 0;
  std::vector<std::string> locks;        // every lock file a command ran under (flock), in order
  std::set<std::string> held;            // lock files another process holds: flock times out

  FakeHost() = default;
  // Copies the whole state (the Host base is not copyable, the fake's state is).
  FakeHost(const FakeHost& o)
      : Host(), fs(o.fs), commands(o.commands), log(o.log), fs_type(o.fs_type), fs_source(o.fs_source), subvolumes(o.subvolumes),
        failing(o.failing), xfs_info_output(o.xfs_info_output), keygen_count(o.keygen_count),
        locks(o.locks), held(o.held) {}

  void crash_after(int effectful_calls) { m_budget = effectful_calls; }
  void no_crash() { m_budget = -1; }
  // The effectful call numbered `index` (0-based) fails once, every other one works: a command
  // exits 1, a file operation returns an error. A transient failure: what comes after it would
  // work, so a caller that went on after it would be seen doing so.
  void fail_once_at(int index) { m_fail_at = index; }
  [[nodiscard]] int effectful_calls() const { return m_spent; }
  [[nodiscard]] bool crashed() const { return m_budget == 0; }

  // Test helpers.
  void dir(const std::string& p) {
    std::string cur;
    for (const auto& part : split(p.substr(1), '/')) {
      cur += "/" + part;
      fs[cur] = Node{FileType::directory, "", 0755};
    }
  }
  void file(const std::string& p, std::string contents, unsigned mode = 0644) {
    dir(p.substr(0, p.rfind('/')));
    fs[p] = Node{FileType::regular, std::move(contents), mode};
  }
  void symlink(const std::string& p, std::string target) {
    dir(p.substr(0, p.rfind('/')));
    fs[p] = Node{FileType::symlink, std::move(target), 0777};
  }
  // path -> contents for every regular file under root, relative to it.
  [[nodiscard]] std::map<std::string, std::string> tree(const std::string& root) const {
    std::map<std::string, std::string> out;
    for (const auto& [p, n] : fs) {
      if (p.starts_with(root + "/") && n.type == FileType::regular) out[p.substr(root.size() + 1)] = n.contents;
    }
    return out;
  }
  [[nodiscard]] bool exists(const std::string& p) const { return fs.contains(p); }
  [[nodiscard]] std::vector<std::string> names_under(const std::string& d) const {
    std::vector<std::string> out;
    for (const auto& [p, n] : fs) {
      if (p.starts_with(d + "/") && p.find('/', d.size() + 1) == std::string::npos) out.push_back(p.substr(d.size() + 1));
    }
    return out;
  }

  [[nodiscard]] std::string name() const override { return "fake"; }

  Result<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& options) override {
    commands.push_back(argv);
    if (auto e = spend(shell_join(argv)); !e) {
      if (e.error().code == ErrorCode::ssh) return std::unexpected(e.error());
      return CommandResult{1, {}, e.error().message};
    }
    // flock --exclusive --no-fork --wait N --conflict-exit-code C LOCK ARGV...: records LOCK, runs ARGV.
    const bool locked = argv.size() > 8 && argv[0] == "flock";
    if (locked) {
      locks.push_back(argv[7]);
      commands.emplace_back(argv.begin() + 8, argv.end());
      if (!is_dir(parent(argv[7]))) return CommandResult{1, {}, "flock: cannot open " + argv[7]};
      if (held.contains(argv[7])) return CommandResult{75, {}, {}};
    }
    CommandResult r = emulate(locked ? std::vector<std::string>(argv.begin() + 8, argv.end()) : argv);
    if (options.on_output && !r.out.empty()) options.on_output(r.out);
    return r;
  }
  Result<std::string> read_file(const std::string& path) override {
    if (m_budget == 0) return lost();
    auto it = fs.find(path);
    if (it == fs.end()) return fail(ErrorCode::not_found, "read " + path + ": No such file");
    if (it->second.type != FileType::regular) return fail(ErrorCode::io, "read " + path + ": not a file");
    return it->second.contents;
  }
  Result<void> write_file(const std::string& path, std::string_view contents, unsigned mode,
                          std::optional<Owner>) override {
    if (auto e = spend("write " + path); !e) return e;
    if (!is_dir(parent(path))) return fail(ErrorCode::io, "write " + path + ": no parent folder");
    if (is_dir(path)) return fail(ErrorCode::io, "write " + path + ": is a folder");
    fs[path] = Node{FileType::regular, std::string(contents), mode};  // replaces a symlink
    return {};
  }
  Result<FileStat> stat(const std::string& path) override {
    if (m_budget == 0) return lost();
    FileStat st;
    if (path == "/") st.type = FileType::directory;
    auto it = fs.find(path);
    if (it == fs.end()) return st;
    st.type = it->second.type;
    st.mode = it->second.mode;
    st.size = it->second.contents.size();
    return st;
  }
  Result<std::vector<std::string>> list(const std::string& d) override {
    if (m_budget == 0) return lost();
    if (!is_dir(d)) return fail(ErrorCode::not_found, "list " + d + ": No such folder");
    return names_under(d);
  }
  Result<void> rename(const std::string& from, const std::string& to) override {
    if (auto e = spend("rename " + from + " " + to); !e) return e;
    if (!fs.contains(from)) return fail(ErrorCode::io, "rename " + from + ": No such file");
    if (!is_dir(parent(to))) return fail(ErrorCode::io, "rename to " + to + ": no parent folder");
    if (fs.contains(to) && !names_under(to).empty()) return fail(ErrorCode::io, "rename to " + to + ": not empty");
    move_tree(from, to);
    return {};
  }
  Result<void> remove(const std::string& path) override {
    if (auto e = spend("remove " + path); !e) return e;
    if (is_dir(path) && !names_under(path).empty()) return fail(ErrorCode::io, "remove " + path + ": not empty");
    fs.erase(path);
    return {};
  }
  Result<void> make_dirs(const std::string& path) override {
    if (auto e = spend("mkdir " + path); !e) return e;
    dir(path);
    return {};
  }

 private:
  int m_budget = -1;  // effectful calls left before the crash; -1 = never crash
  int m_fail_at = -1;  // fail_once_at
  int m_spent = 0;     // effectful calls so far

  static std::unexpected<Error> lost() { return fail(ErrorCode::ssh, "connection lost (injected)"); }
  Result<void> spend(std::string what) {
    if (m_budget == 0) return lost();
    if (m_budget > 0) --m_budget;
    log.push_back(std::move(what));
    if (m_spent++ == m_fail_at) return fail(ErrorCode::io, "injected failure of " + log.back());
    return {};
  }
  static std::string parent(const std::string& p) {
    const auto slash = p.rfind('/');
    return slash == 0 ? "/" : p.substr(0, slash);
  }
  bool is_dir(const std::string& p) const {
    if (p == "/") return true;
    auto it = fs.find(p);
    return it != fs.end() && it->second.type == FileType::directory;
  }
  void copy_tree(const std::string& from, const std::string& to) {
    std::map<std::string, Node> add;
    for (const auto& [p, n] : fs) {
      if (p == from || p.starts_with(from + "/")) add[to + p.substr(from.size())] = n;
    }
    fs.insert(add.begin(), add.end());
  }
  void erase_tree(const std::string& p) {
    std::erase_if(fs, [&](const auto& kv) { return kv.first == p || kv.first.starts_with(p + "/"); });
    subvolumes.erase(p);
  }
  void move_tree(const std::string& from, const std::string& to) {
    fs.erase(to);
    copy_tree(from, to);
    const bool sub = subvolumes.contains(from);
    erase_tree(from);
    if (sub) subvolumes.insert(to);
  }
  std::string type_of(const std::string& p) const {
    std::string best = "ext2/ext3";
    std::size_t len = 0;
    for (const auto& [prefix, t] : fs_type) {
      if ((p == prefix || p.starts_with(prefix + "/")) && prefix.size() >= len) {
        best = t;
        len = prefix.size();
      }
    }
    return best;
  }
  static std::string strip_slash(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
  }
  CommandResult ok(std::string out = {}) { return CommandResult{0, std::move(out), {}}; }
  CommandResult bad(std::string err) { return CommandResult{1, {}, std::move(err)}; }

  CommandResult emulate(const std::vector<std::string>& a) {
    if (failing.contains(a[0])) return bad(a[0] + ": injected failure");
    const std::string& last = a.back();
    if (a[0] == "stat" && a.size() == 6 && a[1] == "-f") return exists(last) ? ok(type_of(last) + "\n") : bad("no such file");
    if (a[0] == "stat" && a[2] == "%i %m") return exists(last) ? ok((subvolumes.contains(last) ? "256" : "1234") + std::string(" /\n")) : bad("no such file");
    if (a[0] == "stat" && a[2] == "%i") return exists(last) ? ok(subvolumes.contains(last) ? "256\n" : "1234\n") : bad("no such file");
    if (a[0] == "findmnt") {  // findmnt -n -o SOURCE --target PATH
      std::string best = "/dev/fake0";
      std::size_t len = 0;
      for (const auto& [prefix, dev] : fs_source) {
        if ((last == prefix || last.starts_with(prefix + "/")) && prefix.size() >= len) {
          best = dev;
          len = prefix.size();
        }
      }
      return ok(best + "[/@]\n");
    }
    if (a[0] == "xfs_info") return xfs_info_output.empty() ? bad("not xfs") : ok(xfs_info_output);
    if (a[0] == "btrfs" && a[2] == "snapshot") {
      if (!subvolumes.contains(a[3])) return bad("ERROR: Not a Btrfs subvolume");
      copy_tree(a[3], a[4]);
      subvolumes.insert(a[4]);
      return ok();
    }
    if (a[0] == "btrfs" && a[2] == "delete") { erase_tree(last); return ok(); }
    if (a[0] == "cp" || a[0] == "rsync") {
      const std::string from = strip_slash(a[a.size() - 2]);
      const std::string to = strip_slash(last);
      if (!is_dir(from)) return bad("no such golden");
      copy_tree(from, to);
      return ok(a[0] == "rsync" ? "      1,024  50%   1.00MB/s    0:00:01 (xfr#1, to-chk=1/2)\r" : "");
    }
    if (a[0] == "rm") {  // rm [-rf --one-file-system | -f] -- PATH...
      for (auto it = std::find(a.begin(), a.end(), "--") + 1; it < a.end(); ++it) erase_tree(*it);
      return ok();
    }
    if (a[0] == "find" && last == "-delete") {  // find DIR -mindepth 1 -maxdepth 1 -name 'PREFIX*' -delete
      std::string prefix = a[a.size() - 2];
      prefix.pop_back();
      std::vector<std::string> doomed;
      for (const auto& [p, n] : fs) {
        if (p.starts_with(a[1] + "/") && p.find('/', a[1].size() + 1) == std::string::npos &&
            p.substr(a[1].size() + 1).starts_with(prefix)) {
          doomed.push_back(p);
        }
      }
      for (const auto& p : doomed) erase_tree(p);
      return ok();
    }
    if (a[0] == "ssh-keygen") {
      // ssh-keygen -q -t TYPE -N '' -C '' -f KEY: one new key pair at KEY.
      ++keygen_count;
      std::string type = "?";
      for (std::size_t i = 0; i + 1 < a.size(); ++i) {
        if (a[i] == "-t") type = a[i + 1];
      }
      fs[last] = Node{FileType::regular, "new-" + type + "-" + std::to_string(keygen_count), 0600};
      fs[last + ".pub"] = Node{FileType::regular, "pub", 0644};
      return ok();
    }
    if (a[0] == "du") {  // du -s [-l] -B1 -x [--null] -- PATH...: bytes of the files under each
      const bool null = std::find(a.begin(), a.end(), "--null") != a.end();
      std::string out;
      for (auto it = std::find(a.begin(), a.end(), "--") + 1; it < a.end(); ++it) {
        if (!exists(*it)) continue;
        std::size_t bytes = 0;
        for (const auto& [p, n] : fs) {
          if (p.starts_with(*it + "/") && n.type == FileType::regular) bytes += n.contents.size();
        }
        out += std::to_string(bytes) + "\t" + *it + (null ? std::string(1, '\0') : "\n");
      }
      return ok(out);
    }
    static const std::set<std::string> known{"exportfs", "ifup", "ifdown", "sysctl", "nft", "systemctl", "networkctl", "ip", "touch", "true"};
    if (known.contains(a[0])) return ok();
    return CommandResult{127, {}, a[0] + ": not emulated"};
  }
};

}  // namespace picluster::nfsroot::testing
