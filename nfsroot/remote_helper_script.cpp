// The remote helper's perl source (protocol in nfsroot/remote_helper.hpp). Kept apart from the C++
// that frames requests for it: this file is the far side.
//
// How it works: $in holds what was read from the channel and not yet used. A run request ("r")
// forks and execs argv in a process group of its own; while it runs, the first $remaining bytes
// of $in are the command's stdin and whatever follows is a control request ("k"). The child's
// stdin pipe is non-blocking, so a command that does not read its input never stalls the
// forwarding of its output. A file request ("f") is answered by the helper itself with perl
// builtins (lstat, sysopen, readdir, rename, mkdir, unlink): no process is started, so it costs
// a round trip and microseconds of work. Its input is taken from the channel as the operation
// needs it, so a batched write stages each file as its record arrives; the temporaries of an
// operation whose input ends early (connection lost) are removed by the END block and nothing is
// renamed. Only Fcntl is loaded at start (POSIX alone costs 30 ms per connection); IO::Handle
// (fsync) is loaded by the first write.

#include "nfsroot/remote_helper.hpp"

namespace picluster::nfsroot::remote {

std::string_view helper_script() {
  return R"PERL(use strict;
use warnings;
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK O_RDONLY O_WRONLY O_CREAT O_EXCL O_NOFOLLOW);
$SIG{PIPE} = 'IGNORE';
binmode STDIN;
binmode STDOUT;
my $in = '';
my $stdin_open = 1;
my @staged;
END { unlink($_->[0]) for @staged; }
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
    send_all("x 255\n");
    return 255;
  }
  my $pid = fork;
  unless (defined $pid) {
    take($remaining);
    frame('e', "picluster helper: fork: $!\n");
    send_all("x 255\n");
    return 255;
  }
  if ($pid == 0) {
    @staged = ();
    setpgrp(0, 0);
    $SIG{PIPE} = 'DEFAULT';
    open(STDIN, '<&', $cin_r) && open(STDOUT, '>&', $out_w) && open(STDERR, '>&', $err_w)
      or do { require POSIX; POSIX::_exit(126) };
    { no warnings 'exec'; exec { $argv->[0] } @$argv; }
    print STDERR "$argv->[0]: $!\n";
    require POSIX;
    POSIX::_exit(127);
  }
  setpgrp($pid, $pid);
  close $cin_r; close $out_w; close $err_w;
  fcntl($cin_w, F_SETFL, fcntl($cin_w, F_GETFL, 0) | O_NONBLOCK);
  my %open = (o => $out_r, e => $err_r);
  my $feed = '';
  my $cin_open = 1;
  my $cut = 0;
  while (%open) {
    if ($remaining > 0 && length $in) {
      my $n = $remaining < length($in) ? $remaining : length($in);
      my $bytes = substr($in, 0, $n, '');
      $feed .= $bytes if $cin_open;
      $remaining -= $n;
    }
    if ($cin_open && $remaining == 0 && $feed eq '') { close $cin_w; $cin_open = 0; }
    if (!$stdin_open && $remaining > 0 && !$cut) {
      # The input was cut short (the verb is gone): a clean EOF would let the command finish on
      # half its input, so it is killed with its group instead.
      kill('KILL', -$pid); $cut = 1;
      if ($cin_open) { close $cin_w; $cin_open = 0; $feed = ''; }
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
  my $status = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
  send_all("x $status\n");
  return $status;
}

# File operations. Each takes its arguments and reads its input with input()/input_line(); it
# answers with emit() and fails by dying with "WHAT PATH: REASON\n" (status 1) or through
# missing_path() (status 44, the path is not there).
my $left = 0;  # bytes of the running file operation's input not yet taken
my $out = '';
sub input {
  my ($n) = @_;
  die "picluster helper: the request's input is shorter than its records\n" if $n > $left;
  $left -= $n;
  return take($n);
}
sub input_line {
  my $line = take_line();
  $left -= length($line) + 1;
  die "picluster helper: the request's input is shorter than its records\n" if $left < 0;
  return $line;
}
sub emit {
  $out .= $_[0];
  if (length($out) >= 262144) { frame('o', $out); $out = ''; }
}
sub gone { return $!{ENOENT} || $!{ENOTDIR}; }
sub missing_path { die { status => 44, message => "$_[0] $_[1]: No such file or directory\n" }; }
sub nul_list { return grep { length } split /\0/, input($left); }
# The lstat facts of the last lstat/stat (the "_" buffer): "TYPE|SIZE|MODE|MTIME|UID|GID".
sub facts {
  my @st = @_;
  my $type = -l _ ? 'l' : -d _ ? 'd' : -f _ ? 'f' : 'o';
  return join('|', $type, $st[7], sprintf('%o', $st[2] & 07777), $st[9], $st[4], $st[5]);
}
sub read_all {
  my ($fh, $path) = @_;
  my $data = '';
  for (;;) {
    my $n = sysread($fh, $data, 1048576, length $data);
    die "read $path: $!\n" unless defined $n;
    return $data unless $n;
  }
}
# ARGS: how many of the paths (the first ones) are read with contents. Answer per path that
# exists: "FACTS|LEN|PATH\0" followed by LEN bytes of contents, LEN "-" when none were read.
sub op_read_paths {
  my ($with_contents) = @_;
  my $i = 0;
  read_one($_, $i++ < $with_contents) for nul_list();
}
sub read_one {
  my ($path, $want) = @_;
  my @st = lstat($path);
  unless (@st) { return if gone(); die "stat $path: $!\n"; }
  my $facts = facts(@st);
  unless ($want && -f _) { emit("$facts|-|$path\0"); return; }
  my $fh;
  unless (sysopen($fh, $path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)) {
    return if gone() || $!{ELOOP};  # removed or replaced since the lstat: not there now
    die "read $path: $!\n";
  }
  my $data = read_all($fh, $path);
  close $fh;
  emit("$facts|" . length($data) . "|$path\0$data");
}
# ARGS: a folder, then paths relative to each of its entries. Answer: a read_paths record for
# every entry of the folder and, inside every entry that is a folder, for each relative path that
# exists (read with contents). A missing folder has no records.
sub op_read_children {
  my ($dir, @inside) = @_;
  my $dh;
  unless (opendir($dh, $dir)) { return if gone(); die "list $dir: $!\n"; }
  my @names = sort grep { $_ ne '.' && $_ ne '..' } readdir($dh);
  closedir $dh;
  for my $name (@names) {
    my $path = "$dir/$name";
    my @st = lstat($path);
    unless (@st) { next if gone(); die "stat $path: $!\n"; }
    emit(facts(@st) . "|-|$path\0");
    next unless -d _;
    for my $rel (@inside) { read_one("$path/$rel", 1); }
  }
}
sub op_stat {
  my ($path) = @_;
  my @st = lstat($path);
  unless (@st) { return if gone(); die "stat $path: $!\n"; }
  emit(facts(@st) . "|-|$path\0");
}
sub op_read {
  my ($path) = @_;
  sysopen(my $fh, $path, O_RDONLY | O_NONBLOCK) or do { missing_path('read', $path) if $!{ENOENT}; die "read $path: $!\n" };
  emit(read_all($fh, $path));
  close $fh;
}
# Answer per folder that exists: "FOLDER\0COUNT\0" then COUNT names, each NUL-terminated.
sub op_list_dirs {
  for my $dir (nul_list()) {
    my $dh;
    unless (opendir($dh, $dir)) { next if gone(); die "list $dir: $!\n"; }
    my @names = grep { $_ ne '.' && $_ ne '..' } readdir($dh);
    closedir $dh;
    emit("$dir\0" . scalar(@names) . "\0" . join('', map { "$_\0" } @names));
  }
}
sub op_list {
  my ($dir) = @_;
  my $dh;
  unless (opendir($dh, $dir)) { missing_path('list', $dir) if $!{ENOENT}; die "list $dir: $!\n"; }
  emit(join('', map { "$_\0" } grep { $_ ne '.' && $_ ne '..' } readdir($dh)));
  closedir $dh;
}
sub make_dirs {
  my ($path) = @_;
  my $dir = '';
  for my $part (grep { length } split m{/}, $path) {
    $dir .= "/$part";
    next if -d $dir;
    next if mkdir($dir, 0755) || -d $dir;
    die "create folder $path: " . ($!{EEXIST} ? "$dir is not a folder" : "$!") . "\n";
  }
}
sub op_mkdir { make_dirs($_[0]); }
sub stage {
  my ($path, $len, $mode, $owner) = @_;
  require IO::Handle;
  my $cut = rindex($path, '/');
  my ($dir, $base) = (substr($path, 0, $cut), substr($path, $cut + 1));
  my ($fh, $tmp);
  for (1 .. 100) {
    $tmp = sprintf('%s/.%s.picluster-%d-%06x', $dir, $base, $$, int(rand(0xffffff)));
    if (sysopen($fh, $tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) { push @staged, [$tmp, $path]; last; }
    die "create $tmp: $!\n" unless $!{EEXIST};
    undef $fh;
  }
  die "create a temporary beside $path: all names taken\n" unless $fh;
  my $contents = input($len);
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
# Input: records "KIND PATHLEN LEN MODE OWNER\n" + path + LEN bytes (KIND f: a file, d: a folder),
# ended by an "e" record. Files are staged as they arrive and renamed in order after the end.
sub op_write_files {
  for (;;) {
    my ($kind, $plen, $clen, $mode, $owner) = split / /, input_line();
    last if $kind eq 'e';
    my $path = input($plen);
    if ($kind eq 'd') { make_dirs($path); next; }
    die "picluster helper: bad write record '$kind'\n" unless $kind eq 'f';
    stage($path, $clen, $mode, $owner);
  }
  while (my $next = shift @staged) {
    next if rename($next->[0], $next->[1]);
    unshift @staged, $next;
    die "rename into place $next->[1]: $!\n";
  }
}
# rename(2) only: across filesystems or mounts it fails with EXDEV (never a copy, as mv would).
sub op_rename {
  my ($from, $to) = @_;
  lstat($from) or do { missing_path('rename', $from) if gone(); die "rename $from: $!\n" };
  return if rename($from, $to);
  die "$from and $to are on different filesystems or mounts; refusing to copy instead of an atomic rename\n" if $!{EXDEV};
  die "rename $from to $to: $!\n";
}
sub op_remove {
  my ($path) = @_;
  lstat($path) or do { return if gone(); die "remove $path: $!\n" };
  my $ok = (-d _) ? rmdir($path) : unlink($path);
  die "remove $path: $!\n" unless $ok || $!{ENOENT};
}
my %ops = (read_paths => \&op_read_paths, read_children => \&op_read_children, stat => \&op_stat, read => \&op_read,
           list_dirs => \&op_list_dirs, list => \&op_list, mkdir => \&op_mkdir,
           write_files => \&op_write_files, rename => \&op_rename, remove => \&op_remove);
sub serve_op {
  my ($argv, $len) = @_;
  my $name = shift @$argv;
  $left = $len;
  $out = '';
  my $ok = eval {
    my $op = $ops{$name} or die "picluster helper: no operation '$name'\n";
    $op->(@$argv);
    1;
  };
  my $error = $@;
  unlink($_->[0]) for @staged;
  @staged = ();
  take($left) if $left > 0;
  frame('o', $out) if length $out;
  $out = '';
  if ($ok) { send_all("x 0\n"); return 0; }
  my ($status, $message) = ref $error ? ($error->{status}, $error->{message}) : (1, $error);
  frame('e', $message);
  send_all("x $status\n");
  return $status;
}
send_all("$ARGV[0]\n");
# FLAGS of a request: "c" carried out only if the chain has not failed since the last request
# without "c" (else its input is dropped and it is answered "x 999": skipped); "t" a non-zero
# exit of this one does not fail the chain.
my $broken = 0;
for (;;) {
  my ($kind, $nargs, $len, $flags) = split / /, take_line();
  next if $kind eq 'k' || $kind eq 'q';
  die "picluster helper: bad request '$kind'\n" unless $kind eq 'r' || $kind eq 'f';
  $flags //= '';
  my @argv = map { take(take_line()) } 1 .. $nargs;
  if ($flags =~ /c/ && $broken) { take($len); send_all("x 999\n"); next; }
  $broken = 0 unless $flags =~ /c/;
  my $status = $kind eq 'r' ? run_command(\@argv, $len) : serve_op(\@argv, $len);
  $broken = 1 if $status != 0 && $flags !~ /t/;
}
)PERL";
}

}  // namespace picluster::nfsroot::remote
