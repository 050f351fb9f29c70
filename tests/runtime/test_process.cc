// TestProcess: a child with its output on a pipe, read line by line.
#include "tests/runtime/test_process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

extern char** environ;

namespace lockmesh::testing {

TestProcess::TestProcess(std::vector<std::string> args) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  fd_ = fds[0];
}

TestProcess::~TestProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(fd_);
}

std::optional<std::string> TestProcess::WaitLine(std::string_view prefix, bool after_timestamp,
                                                 std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (true) {
    while (next_ < lines_.size()) {
      const std::string& line = lines_[next_++];
      const std::size_t from = after_timestamp ? line.find(' ') + 1 : 0;
      if (after_timestamp && from == 0) continue;
      if (line.compare(from, prefix.size(), prefix) == 0) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) {
      eof_ = true;
      return std::nullopt;
    }
    partial_.append(buf, n);
    for (std::size_t eol; (eol = partial_.find('\n')) != std::string::npos;) {
      lines_.push_back(partial_.substr(0, eol));
      partial_.erase(0, eol + 1);
    }
  }
}

bool TestProcess::WaitRecord(std::string_view record) {
  const auto matches = [&](const std::string& line) {
    const std::size_t space = line.find(' ');
    return space != std::string::npos && line.compare(space + 1, record.size(), record) == 0;
  };
  for (std::size_t i = 0; i < next_; ++i) {
    if (matches(lines_[i])) return true;
  }
  return WaitLine(record, true).has_value();
}

void TestProcess::Signal(int sig) { ::kill(pid_, sig); }

int TestProcess::Wait() {
  // Reads its output to the end (it exited, closing the pipe), so a full pipe cannot hold
  // the exit up; a child still running after the bound is killed.
  while (!eof_ && WaitLine("\x01", false, std::chrono::seconds(30)).has_value()) {
  }
  if (!eof_) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string TestProcess::Output() const {
  return absl::StrCat(absl::StrJoin(lines_, "\n"), "\n", partial_);
}

}  // namespace lockmesh::testing
