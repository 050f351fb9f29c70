// clang-format off: Boost 1.74's asio headers need <utility> first under GCC 12 in C++20.
#include <utility>
// clang-format on

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/comparison/etcd_zookeeper_process.h"

namespace lockmesh::bench::comparison {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Spawn(std::vector<std::string> args,
                                                                    const std::string& log_path) {
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_error[2] = {-1, -1};  // the child writes errno here if execv fails
  if (log < 0 || null < 0 || ::pipe2(exec_error, O_CLOEXEC) != 0) {
    const int err = errno;
    for (int fd : {log, null, exec_error[0], exec_error[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return absl::InternalError(absl::StrCat("cannot open ", log_path, ": ", std::strerror(err)));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  // fork, not posix_spawn: the child must ask for PR_SET_PDEATHSIG before it execs, so a
  // driver that dies without running its destructors (a crash, SIGKILL) takes its servers
  // with it. Between fork and exec only async-signal-safe calls.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before the prctl
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execv(argv[0], argv.data());
    const int err = errno;
    (void)!::write(exec_error[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(log);
  ::close(null);
  ::close(exec_error[1]);
  int err = pid < 0 ? errno : 0;
  if (pid > 0 && ::read(exec_error[0], &err, sizeof err) > 0) {  // 0 bytes: execv succeeded
    ::waitpid(pid, nullptr, 0);
  }
  ::close(exec_error[0]);
  if (err != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0], ": ", std::strerror(err)));
  }
  // glibc 2.36 declares pidfd_open without C linkage, so the system call directly; -1 on
  // kernels without it (Wait then polls).
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return std::unique_ptr<ServerProcess>(new ServerProcess(pid, pidfd, log_path));
}

ServerProcess::~ServerProcess() {
  Terminate();
  Wait(kServerExitBound);
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool ServerProcess::Exited() {
  if (!reaped_ && ::waitpid(pid_, nullptr, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

std::string ServerProcess::LogTail(std::size_t bytes) const {
  std::ifstream in(log_path_);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

void ServerProcess::Terminate() {
  if (terminated_ || Exited()) return;
  ::kill(pid_, SIGTERM);
  terminated_ = true;
}

void ServerProcess::Wait(Clock::duration bound) {
  const Clock::time_point until = Clock::now() + bound;
  while (!Exited()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      return;
    }
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    } else {
      // No pidfd (kernel before 5.3): a shutdown path, polling the exit is fine.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void StopAll(std::vector<std::unique_ptr<ServerProcess>>& processes) {
  for (auto& p : processes) p->Terminate();
  for (auto& p : processes) p->Wait(kServerExitBound);
  processes.clear();
}

std::vector<uint16_t> FreeTcpPorts(int n) {
  asio::io_context io;
  std::vector<asio::ip::tcp::acceptor> held;
  std::vector<uint16_t> ports;
  for (int i = 0; i < n; ++i) {
    held.emplace_back(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;
}

absl::StatusOr<std::string> TcpExchange(uint16_t port, const std::string& request,
                                        Clock::time_point deadline) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::steady_timer timer(io, deadline);
  boost::system::error_code result = asio::error::would_block;
  std::string reply;
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) socket.close();  // the deadline passed: abort whatever is pending
  });
  socket.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                       [&](boost::system::error_code ec) {
                         if (ec) {
                           result = ec;
                           timer.cancel();
                           return;
                         }
                         asio::async_write(socket, asio::buffer(request),
                                           [&](boost::system::error_code ec, std::size_t) {
                                             if (ec) {
                                               result = ec;
                                               timer.cancel();
                                               return;
                                             }
                                             asio::async_read(
                                                 socket, asio::dynamic_buffer(reply),
                                                 [&](boost::system::error_code ec, std::size_t) {
                                                   result = ec;
                                                   timer.cancel();
                                                 });
                                           });
                       });
  io.run();
  if (result && result != asio::error::eof) {
    return absl::UnavailableError(absl::StrCat("127.0.0.1:", port, ": ", result.message()));
  }
  return reply;
}

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }
bool IsReadable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace lockmesh::bench::comparison
