#include "nfsroot/remote_helper.hpp"

#include <cstdlib>

#include "common/text.hpp"

namespace picluster::nfsroot::remote {
namespace {

// The helper (see the header for the protocol). $in holds what was read from the channel and not
// yet used; while a command runs, its first $remaining bytes are the command's stdin and whatever
// follows is a control request ("k"). The child's stdin pipe is non-blocking, so a command that
// does not read its input never stalls the forwarding of its output.
constexpr std::string_view kHelperScript = R"PERL(use strict;
use warnings;
use POSIX ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
$SIG{PIPE} = 'IGNORE';
binmode STDIN;
binmode STDOUT;
my $in = '';
my $stdin_open = 1;
sub fill {
  my $n = sysread(STDIN, $in, 65536, length $in);
  $stdin_open = 0 unless $n;
  return $n;
}
sub take_line {
  my $at;
  while (($at = index($in, "\n")) < 0) { fill() or exit 0; }
  my $line = substr($in, 0, $at + 1, '');
  chop $line;
  return $line;
}
sub take {
  my ($n) = @_;
  while (length($in) < $n) { fill() or exit 0; }
  return substr($in, 0, $n, '');
}
sub send_all {
  my ($data) = @_;
  while (length $data) {
    my $w = syswrite(STDOUT, $data);
    exit 0 unless defined $w;
    substr($data, 0, $w, '');
  }
}
sub frame { my ($kind, $data) = @_; send_all("$kind " . length($data) . "\n" . $data); }
sub run_command {
  my ($argv, $remaining) = @_;
  my ($cin_r, $cin_w, $out_r, $out_w, $err_r, $err_w);
  unless (pipe($cin_r, $cin_w) && pipe($out_r, $out_w) && pipe($err_r, $err_w)) {
    take($remaining);
    frame('e', "picluster helper: pipe: $!\n");
    return send_all("x 255\n");
  }
  my $pid = fork;
  unless (defined $pid) {
    take($remaining);
    frame('e', "picluster helper: fork: $!\n");
    return send_all("x 255\n");
  }
  if ($pid == 0) {
    POSIX::setpgid(0, 0);
    $SIG{PIPE} = 'DEFAULT';
    open(STDIN, '<&', $cin_r) && open(STDOUT, '>&', $out_w) && open(STDERR, '>&', $err_w)
      or POSIX::_exit(126);
    { no warnings 'exec'; exec { $argv->[0] } @$argv; }
    print STDERR "$argv->[0]: $!\n";
    POSIX::_exit(127);
  }
  POSIX::setpgid($pid, $pid);
  close $cin_r; close $out_w; close $err_w;
  fcntl($cin_w, F_SETFL, fcntl($cin_w, F_GETFL, 0) | O_NONBLOCK);
  my %open = (o => $out_r, e => $err_r);
  my $feed = '';
  my $cin_open = 1;
  while (%open) {
    if ($remaining > 0 && length $in) {
      my $n = $remaining < length($in) ? $remaining : length($in);
      my $bytes = substr($in, 0, $n, '');
      $feed .= $bytes if $cin_open;
      $remaining -= $n;
    }
    if ($cin_open && (($remaining == 0 && $feed eq '') || (!$stdin_open && $remaining > 0))) {
      close $cin_w; $cin_open = 0; $feed = '';
    }
    kill('KILL', -$pid) if $remaining == 0 && $in =~ s/\Ak\n//;
    my ($rin, $win) = ('', '');
    vec($rin, fileno($_), 1) = 1 for values %open;
    vec($rin, 0, 1) = 1 if $stdin_open && length($in) < 4194304;
    vec($win, fileno($cin_w), 1) = 1 if $cin_open && length $feed;
    next if select(my $r = $rin, my $w = $win, undef, undef) < 0;
    fill() if vec($r, 0, 1);
    if ($cin_open && length $feed && vec($w, fileno($cin_w), 1)) {
      my $n = syswrite($cin_w, $feed);
      if (defined $n) { substr($feed, 0, $n, ''); }
      elsif (!$!{EAGAIN}) { close $cin_w; $cin_open = 0; $feed = ''; }
    }
    for my $kind (sort keys %open) {
      next unless vec($r, fileno($open{$kind}), 1);
      my $n = sysread($open{$kind}, my $buf, 65536);
      if ($n) { frame($kind, $buf); } else { close(delete $open{$kind}); }
    }
  }
  close $cin_w if $cin_open;
  take($remaining) if $remaining > 0;
  waitpid($pid, 0);
  send_all('x ' . (($? & 127) ? 128 + ($? & 127) : $? >> 8) . "\n");
}
send_all("$ARGV[0]\n");
for (;;) {
  my ($kind, $nargs, $len) = split / /, take_line();
  next if $kind eq 'k';
  die "picluster helper: bad request '$kind'\n" unless $kind eq 'r';
  my @argv = map { take(take_line()) } 1 .. $nargs;
  run_command(\@argv, $len);
}
)PERL";

// The environment of the helper and so of every remote command: nothing from the login shell.
const std::vector<std::string> kRemoteEnv = {
    "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};

}  // namespace

std::string helper_command_line(std::string_view nonce) {
  std::vector<std::string> argv = kRemoteEnv;
  argv.insert(argv.end(), {"perl", "-e", std::string(kHelperScript), std::string(nonce)});
  return "exec " + shell_join(argv);
}

std::string encode_run(const std::vector<std::string>& argv, std::size_t input_size) {
  std::string out = "r " + std::to_string(argv.size()) + " " + std::to_string(input_size) + "\n";
  for (const auto& a : argv) out += std::to_string(a.size()) + "\n" + a;
  return out;
}

void FrameReader::feed(std::string_view bytes) {
  if (m_at > 0) {  // drop what was parsed; what is left is less than one frame
    m_buffer.erase(0, m_at);
    m_at = 0;
  }
  m_buffer.append(bytes);
  if (m_started) return;
  const auto hello = m_buffer.find(m_nonce);
  if (hello == std::string::npos) {
    // Keep only a tail that may still hold the start of the nonce.
    if (m_buffer.size() > m_nonce.size()) m_buffer.erase(0, m_buffer.size() - m_nonce.size());
    return;
  }
  m_buffer.erase(0, hello + m_nonce.size());
  m_started = true;
}

std::optional<Result<Frame>> FrameReader::next() {
  if (!m_started) return std::nullopt;
  const std::string_view rest = std::string_view(m_buffer).substr(m_at);
  const auto nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    if (rest.size() > 32) return fail(ErrorCode::io, "remote helper: malformed frame " + printable(rest.substr(0, 32)));
    return std::nullopt;
  }
  const std::string_view header = rest.substr(0, nl);
  if (header.size() < 3 || header[1] != ' ' || header.find_first_not_of("0123456789", 2) != std::string_view::npos) {
    return fail(ErrorCode::io, "remote helper: malformed frame " + printable(header));
  }
  Frame f;
  f.kind = header[0];
  const auto number = std::strtoull(std::string(header.substr(2)).c_str(), nullptr, 10);
  if (f.kind == 'x') {
    f.status = static_cast<int>(number);
    m_at += nl + 1;
    return f;
  }
  if (f.kind != 'o' && f.kind != 'e') return fail(ErrorCode::io, "remote helper: malformed frame " + printable(header));
  if (rest.size() - nl - 1 < number) return std::nullopt;
  f.data = std::string(rest.substr(nl + 1, number));
  m_at += nl + 1 + number;
  return f;
}

}  // namespace picluster::nfsroot::remote
