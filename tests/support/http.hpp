#pragma once
// A minimal HTTP/1.0 client for tests of picluster's own server: one request per connection,
// bounded by socket timeouts, loopback only. Not a general client: no redirects, no chunking.

#include <map>
#include <string>

namespace picluster::testing {

struct HttpReply {
  int status = 0;                              // 0: no answer (connection failed or timed out)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// `method` `path` to host:port (host numeric: "127.0.0.1" or "::1"); waits at most `timeout_s`.
HttpReply http_request(const std::string& host, int port, const std::string& path,
                       const std::string& method = "GET", int timeout_s = 10);

}  // namespace picluster::testing
