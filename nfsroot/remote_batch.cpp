#include "nfsroot/remote_batch.hpp"

#include <cstdio>
#include <cstdlib>

#include "common/text.hpp"

namespace picluster::nfsroot::remote {
namespace {

// Errors of find and tar that mean "this path is not there" are expected; any other line on
// stderr (permission denied, I/O error) fails the batch with that line.
constexpr std::string_view kCheckErrors =
    "if grep -v -e 'No such file or directory' -e 'Not a directory' "
    "-e 'Exiting with failure status' \"$t/err\" >&2; then exit 3; fi\n"
    "exit 0\n";

constexpr std::string_view kTempFolder =
    "t=$(mktemp -d) || exit 1\n"
    "trap 'rm -rf -- \"$t\"' EXIT\n"
    ": > \"$t/err\"\n";

// $1: how many of the NUL-terminated paths on stdin (the first ones) are read with contents.
constexpr std::string_view kReadScript =
    "cat > \"$t/all\" || exit 1\n"
    "if [ -s \"$t/all\" ]; then\n"
    "  find -files0-from \"$t/all\" -maxdepth 0 -printf '%y|%s|%m|%T@|%U|%G|%p\\0' 2>>\"$t/err\"\n"
    "fi\n"
    "printf 'END\\0'\n"
    "if [ \"$1\" -gt 0 ]; then\n"
    "  head -z -n \"$1\" \"$t/all\" > \"$t/c\" || exit 1\n"
    "  tar -c -P -b 1 --format=gnu --no-recursion --hard-dereference --null "
    "--verbatim-files-from --no-unquote -T \"$t/c\" -f - 2>>\"$t/err\"\n"
    "fi\n";

constexpr std::string_view kWriteScript = R"PERL(use strict;
use warnings;
use Fcntl qw(O_WRONLY O_CREAT O_EXCL O_NOFOLLOW);
use IO::Handle;
binmode STDIN;
my @staged;
sub take {
  my ($n) = @_;
  my $buf = '';
  while (length($buf) < $n) {
    my $got = read(STDIN, $buf, $n - length($buf), length($buf));
    die "input ended after " . length($buf) . " of $n bytes; nothing renamed\n" unless $got;
  }
  return $buf;
}
sub folders {
  my ($path) = @_;
  my $dir = '';
  for my $part (grep { length } split m{/}, $path) {
    $dir .= "/$part";
    next if -d $dir;
    mkdir($dir, 0755) or -d $dir or die "create folder $dir: $!\n";
  }
}
sub stage {
  my ($path, $contents, $mode, $owner) = @_;
  my $cut = rindex($path, '/');
  my ($dir, $base) = (substr($path, 0, $cut), substr($path, $cut + 1));
  my ($fh, $tmp);
  for (1 .. 100) {
    $tmp = sprintf('%s/.%s.picluster-%d-%06x', $dir, $base, $$, int(rand(0xffffff)));
    last if sysopen($fh, $tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    die "create $tmp: $!\n" unless $!{EEXIST};
  }
  push @staged, [$tmp, $path];
  binmode $fh;
  print {$fh} $contents or die "write $tmp: $!\n";
  if ($owner ne '-') {
    my ($uid, $gid) = split /:/, $owner;
    chown($uid, $gid, $fh) or die "chown $tmp: $!\n";
  }
  chmod(oct($mode), $fh) or die "chmod $tmp: $!\n";
  $fh->flush or die "write $tmp: $!\n";
  $fh->sync or die "fsync $tmp: $!\n";
  close($fh) or die "close $tmp: $!\n";
}
my $ok = eval {
  my $complete = 0;
  while (defined(my $line = <STDIN>)) {
    chomp $line;
    my ($kind, $plen, $clen, $mode, $owner) = split / /, $line;
    if ($kind eq 'e') { $complete = 1; last; }
    my $path = take($plen);
    if ($kind eq 'd') { folders($path); next; }
    die "bad record: $kind\n" unless $kind eq 'f';
    stage($path, take($clen), $mode, $owner);
  }
  die "input ended before the last file; nothing renamed\n" unless $complete;
  while (my $next = shift @staged) {
    rename($next->[0], $next->[1]) or do { unshift @staged, $next; die "rename into place $next->[1]: $!\n" };
  }
  1;
};
unless ($ok) {
  unlink($_->[0]) for @staged;
  print STDERR $@;
  exit 1;
}
)PERL";

constexpr std::string_view kListScript =
    "find -files0-from - -maxdepth 1 -printf '%d%y\\0%H\\0%f\\0' 2>>\"$t/err\"\n";

std::vector<std::string> sh_script(std::string body, std::vector<std::string> args) {
  std::vector<std::string> argv{"sh", "-c", std::move(body), "sh"};
  for (auto& a : args) argv.push_back(std::move(a));
  return argv;
}

FileType type_of(char c) {
  switch (c) {
    case 'f': return FileType::regular;
    case 'd': return FileType::directory;
    case 'l': return FileType::symlink;
    default: return FileType::other;
  }
}

// "f|3|644|1796394738.82|0|0|/path" -> path and its facts.
Result<std::pair<std::string, FileStat>> parse_fact(std::string_view record) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (int i = 0; i < 6; ++i) {
    const auto bar = record.find('|', start);
    if (bar == std::string_view::npos) {
      return fail(ErrorCode::io, "read batch: malformed record " + printable(record));
    }
    fields.push_back(record.substr(start, bar - start));
    start = bar + 1;
  }
  FileStat st;
  st.type = fields[0].size() == 1 ? type_of(fields[0][0]) : FileType::other;
  const auto num = [](std::string_view v, int base) {
    return std::strtoull(std::string(v).c_str(), nullptr, base);
  };
  st.size = num(fields[1], 10);
  st.mode = static_cast<unsigned>(num(fields[2], 8)) & 07777U;
  st.mtime = static_cast<std::int64_t>(num(fields[3].substr(0, fields[3].find('.')), 10));
  st.uid = static_cast<std::uint32_t>(num(fields[4], 10));
  st.gid = static_cast<std::uint32_t>(num(fields[5], 10));
  return std::pair{std::string(record.substr(start)), st};
}

// A tar header's numeric field: octal text, or GNU base-256 when the high bit is set.
std::uint64_t tar_number(std::string_view field) {
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80U) != 0) {
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < field.size(); ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  std::uint64_t v = 0;
  for (const char c : field) {
    if (c >= '0' && c <= '7') v = v * 8 + static_cast<std::uint64_t>(c - '0');
    else if (c != ' ' || v != 0) break;
  }
  return v;
}

std::string c_string(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

// Regular files' contents from a GNU tar stream (long names via 'L' records).
Result<std::map<std::string, std::string>> parse_tar(std::string_view tar) {
  std::map<std::string, std::string> out;
  std::string long_name;
  std::size_t at = 0;
  while (at + 512 <= tar.size()) {
    const std::string_view header = tar.substr(at, 512);
    if (header.find_first_not_of('\0') == std::string_view::npos) return out;  // end of archive
    const std::uint64_t size = tar_number(header.substr(124, 12));
    const char type = header[156];
    const std::size_t data = at + 512;
    const std::size_t padded = static_cast<std::size_t>((size + 511) / 512 * 512);
    if (data + size > tar.size()) return fail(ErrorCode::io, "read batch: the file stream was cut short");
    const std::string_view body = tar.substr(data, static_cast<std::size_t>(size));
    if (type == 'L') {
      long_name = c_string(body);
    } else {
      const std::string name = long_name.empty() ? c_string(header.substr(0, 100)) : long_name;
      long_name.clear();
      if (type == '0' || type == '\0') out[name] = std::string(body);
    }
    at = data + padded;
  }
  return fail(ErrorCode::io, "read batch: the file stream ended without its end marker");
}

}  // namespace

Command read_paths_command(const std::vector<PathRead>& paths) {
  Command c;
  std::size_t with_contents = 0;
  for (const auto& p : paths) {
    if (!p.contents) continue;
    c.input += p.path + '\0';
    ++with_contents;
  }
  for (const auto& p : paths) {
    if (!p.contents) c.input += p.path + '\0';
  }
  c.argv = sh_script(std::string(kTempFolder) + std::string(kReadScript) + std::string(kCheckErrors),
                     {std::to_string(with_contents)});
  return c;
}

Result<PathSnapshot> parse_read_paths(const std::vector<PathRead>& paths, std::string_view out) {
  PathSnapshot snapshot;
  std::size_t at = 0;
  for (;;) {
    const auto end = out.find('\0', at);
    if (end == std::string_view::npos) return fail(ErrorCode::io, "read batch: the answer was cut short");
    const std::string_view record = out.substr(at, end - at);
    at = end + 1;
    if (record == "END") break;
    auto fact = parse_fact(record);
    if (!fact) return std::unexpected(fact.error());
    snapshot[fact->first].stat = fact->second;
  }
  std::map<std::string, std::string> contents;
  if (at < out.size()) {
    auto files = parse_tar(out.substr(at));
    if (!files) return std::unexpected(files.error());
    contents = std::move(*files);
  }
  for (const auto& p : paths) {
    if (!p.contents) continue;
    const auto facts = snapshot.find(p.path);
    const auto text = contents.find(p.path);
    if (facts == snapshot.end() || facts->second.stat.type != FileType::regular) continue;
    if (text == contents.end()) {  // removed between find and tar: missing now
      snapshot.erase(facts);
      continue;
    }
    facts->second.stat.size = text->second.size();
    facts->second.contents = text->second;
  }
  return snapshot;
}

Command write_files_command(const std::vector<FileWrite>& files) {
  Command c;
  for (const auto& f : files) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", f.mode & 07777U);
    const std::string owner =
        f.owner ? std::to_string(f.owner->uid) + ":" + std::to_string(f.owner->gid) : "-";
    c.input += std::string(f.folder ? "d " : "f ") + std::to_string(f.path.size()) + " " +
               std::to_string(f.folder ? 0 : f.contents.size()) + " " + mode + " " + owner + "\n";
    c.input += f.path;
    if (!f.folder) c.input += f.contents;
  }
  c.input += "e 0 0 0 -\n";
  c.argv = {"perl", "-e", std::string(kWriteScript)};
  return c;
}

Command list_dirs_command(const std::vector<std::string>& dirs) {
  Command c;
  for (const auto& d : dirs) c.input += d + '\0';
  c.argv = sh_script(std::string(kTempFolder) + std::string(kListScript) + std::string(kCheckErrors), {});
  return c;
}

Result<std::map<std::string, std::vector<std::string>>> parse_list_dirs(std::string_view out) {
  std::map<std::string, std::vector<std::string>> dirs;
  const auto fields = split(out, '\0');
  // Triples "DEPTH TYPE", starting point, name; split gives an empty field after the last NUL.
  for (std::size_t i = 0; i + 2 < fields.size(); i += 3) {
    if (fields[i] == "0d") dirs[fields[i + 1]];
    else if (fields[i].starts_with('1')) dirs[fields[i + 1]].push_back(fields[i + 2]);
  }
  for (auto& [dir, names] : dirs) std::ranges::sort(names);
  return dirs;
}

Result<CommandResult> run_batch(Host& host, const Command& command, std::string_view what) {
  RunOptions options;
  options.input = command.input;
  options.timeout = std::chrono::minutes(5);
  auto r = host.run(command.argv, options);
  if (!r) return std::unexpected(r.error().with_context(std::string(what)));
  if (r->exit_status != 0) {
    std::string err = r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return fail(ErrorCode::command_failed, std::string(what) + ": exit " +
                                               std::to_string(r->exit_status) + ": " + err);
  }
  return r;
}

}  // namespace picluster::nfsroot::remote
