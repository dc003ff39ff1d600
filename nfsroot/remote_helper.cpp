#include "nfsroot/remote_helper.hpp"

#include <cstdlib>

#include "common/text.hpp"

namespace picluster::nfsroot::remote {
namespace {

// The environment of the helper and so of every remote command: nothing from the login shell.
const std::vector<std::string> kRemoteEnv = {
    "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};

}  // namespace

std::string helper_command_line(std::string_view nonce) {
  std::vector<std::string> argv = kRemoteEnv;
  argv.insert(argv.end(), {"perl", "-e", std::string(helper_script()), std::string(nonce)});
  return "exec " + shell_join(argv);
}

namespace {

std::string encode(char kind, const std::vector<std::string>& args, std::size_t input_size,
                   std::string_view flags) {
  std::string out = std::string(1, kind) + " " + std::to_string(args.size()) + " " + std::to_string(input_size) +
                    (flags.empty() ? "" : " " + std::string(flags)) + "\n";
  for (const auto& a : args) out += std::to_string(a.size()) + "\n" + a;
  return out;
}

}  // namespace

std::string encode_run(const std::vector<std::string>& argv, std::size_t input_size, std::string_view flags) {
  return encode('r', argv, input_size, flags);
}

std::string encode_op(const std::vector<std::string>& args, std::size_t input_size, std::string_view flags) {
  return encode('f', args, input_size, flags);
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
