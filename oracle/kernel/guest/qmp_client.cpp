#include "oracle/kernel/guest/qmp_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace bpfdiff::oracle::kernel::guest {

QmpClient::~QmpClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<QmpClient>> QmpClient::connect(const std::string& socket, ChildProcess& vmm,
                                                      Clock::time_point deadline) {
  auto fd = connect_unix(socket, deadline, vmm);
  if (!fd) return fd.error();
  std::unique_ptr<QmpClient> client(new QmpClient(*fd));
  auto greeting = client->read_line(deadline);
  if (!greeting) return greeting.error();
  if (greeting->find("\"QMP\"") == std::string::npos) return make_error("not a QMP greeting: " + *greeting);
  if (auto caps = client->execute("qmp_capabilities", "{}", deadline); !caps) return caps.error();
  return client;
}

Result<std::string> QmpClient::read_line(Clock::time_point deadline) {
  for (;;) {
    if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return make_error("QMP: no reply within the deadline");
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return make_error("QMP: connection closed");
    pending_.append(buf, static_cast<std::size_t>(got));
  }
}

Result<std::string> QmpClient::execute(const std::string& command, const std::string& arguments_json,
                                       Clock::time_point deadline) {
  const std::string line = R"({"execute":")" + command + R"(","arguments":)" + arguments_json + "}\n";
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    return make_error("QMP: cannot send " + command);
  for (;;) {
    auto reply = read_line(deadline);
    if (!reply) return reply.error();
    const auto json = nlohmann::json::parse(*reply, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return make_error("QMP: malformed reply: " + *reply);
    if (json.contains("return"))
      return json["return"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (json.contains("error")) {
      const auto& e = json["error"];
      return make_error("QMP " + command + ": " +
                        (e.contains("desc")
                             ? e["desc"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                             : std::string("unknown error")));
    }
    // Anything else is an asynchronous event; the reply follows.
  }
}

}  // namespace bpfdiff::oracle::kernel::guest
