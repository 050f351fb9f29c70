// File: tests/runtime/test_process.h
//
// One child process for the tests that run lockmesh programs as real processes: its stdout
// and stderr on one pipe, read line by line with a bound on every wait, killed by PID when
// the test is done with it.
//
//   TestProcess p({LOCKMESH_NODE_BIN, "--name=n0", ...});
//   ASSERT_TRUE(p.WaitLine("lockmesh-node n0 ready").has_value()) << p.Output();
//   ASSERT_TRUE(p.WaitLine("n0 info member.left: n2", /*after_timestamp=*/true));
//   p.Signal(SIGTERM);
//   EXPECT_EQ(p.Wait(), 0);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockmesh::testing {

// One child process with stdout and stderr on one pipe. The destructor kills it (SIGKILL)
// if it still runs.
class TestProcess {
 public:
  explicit TestProcess(std::vector<std::string> args);
  ~TestProcess();
  TestProcess(const TestProcess&) = delete;
  TestProcess& operator=(const TestProcess&) = delete;

  // The first unread line that starts with `prefix`, or (with `after_timestamp`) whose text
  // after the first space does; nullopt after `bound` or at the end of output.
  std::optional<std::string> WaitLine(std::string_view prefix, bool after_timestamp = false,
                                      std::chrono::milliseconds bound = std::chrono::seconds(30));
  // Like WaitLine(record, true), but also matches lines read before: for records whose order
  // among others is not known.
  bool WaitRecord(std::string_view record);
  void Signal(int sig);
  // The exit code, waiting up to 30 s (then SIGKILL); -1 unless it exited normally.
  int Wait();
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::vector<std::string> lines_;
  std::size_t next_ = 0;
  std::string partial_;
  bool eof_ = false;
};

}  // namespace lockmesh::testing
