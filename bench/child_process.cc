// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "absl/strings/str_cat.h"
#include "bench/child_process.h"

extern char** environ;

namespace lockmesh::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Child> Child::Spawn(std::vector<std::string> args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return nullptr;
  }
  return std::unique_ptr<Child>(new Child(pid, fds[0]));
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> Child::WaitLine(std::string_view prefix, Clock::duration bound) {
  const Clock::time_point until = Clock::now() + bound;
  while (true) {
    {
      std::lock_guard lock(mu_);
      while (next_ < lines_.size()) {
        const std::string& line = lines_[next_++];
        if (line.rfind(prefix, 0) == 0) return line;
      }
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return std::nullopt;
  }
}

void Child::Drain() {
  while (ReadSome(-1)) {
  }
}

int Child::Terminate(Clock::duration bound) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const Clock::time_point until = Clock::now() + bound;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);  // a benchmark's shutdown: polling is fine
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> Child::Lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

bool Child::ReadSome(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return timeout_ms != 0;
  char buf[4096];
  const ssize_t n = ::read(fd_, buf, sizeof(buf));
  if (n <= 0) return false;
  std::lock_guard lock(mu_);
  partial_.append(buf, static_cast<std::size_t>(n));
  for (std::size_t eol; (eol = partial_.find('\n')) != std::string::npos;) {
    lines_.push_back(partial_.substr(0, eol));
    partial_.erase(0, eol + 1);
  }
  return true;
}

Children::~Children() {
  for (std::size_t i = 0; i < drains.size(); ++i) {
    if (!drains[i].joinable()) continue;
    children[i]->Terminate(kChildExitBound);
    drains[i].join();
  }
}

std::vector<std::string> FreeAddresses(int n) {
  boost::asio::io_context io;
  std::vector<boost::asio::ip::udp::socket> sockets;
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    sockets.emplace_back(
        io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    out.push_back(absl::StrCat("127.0.0.1:", sockets.back().local_endpoint().port()));
  }
  return out;
}

std::optional<std::string> WriteNewKeyFile(const std::string& path) {
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  char hex[2 * sizeof key + 1];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  const std::string line = absl::StrCat(hex, "\n");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const bool ok =
      fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) ::close(fd);
  if (!ok) return std::nullopt;
  return std::string(hex);
}

}  // namespace lockmesh::bench
