// The CPU accounting of bench_compare (issue 12's "CPU per cycle, summed over every process"):
// the schedstat and status lines as the kernel writes them, and the window arithmetic over a
// /proc tree written by the test, where threads come and go and a process vanishes.
#include "bench/comparison/cpu_usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lockmesh::bench::comparison {
namespace {

namespace fs = std::filesystem;

TEST(ParseSchedstat, TheFirstFieldIsNanosecondsOnCpu) {
  EXPECT_EQ(ParseSchedstat("1864321987 52310 412\n"), 1864321987u);
  EXPECT_EQ(ParseSchedstat("0 0 0\n"), 0u);
  EXPECT_EQ(ParseSchedstat("18446744073709551615 1 1"), 18446744073709551615u);
}

TEST(ParseSchedstat, AnythingElseIsNotANumber) {
  EXPECT_EQ(ParseSchedstat(""), std::nullopt);
  EXPECT_EQ(ParseSchedstat("\n"), std::nullopt);
  EXPECT_EQ(ParseSchedstat("x12 3 4\n"), std::nullopt);
  EXPECT_EQ(ParseSchedstat("-5 3 4\n"), std::nullopt);
}

constexpr const char* kStatus =
    "Name:\tredis-server\n"
    "State:\tS (sleeping)\n"
    "Pid:\t4242\n"
    "VmRSS:\t    9876 kB\n"
    "Cpus_allowed_list:\t0-1\n"
    "voluntary_ctxt_switches:\t1500\n"
    "nonvoluntary_ctxt_switches:\t37\n";

TEST(ParseContextSwitches, SumsVoluntaryAndNonvoluntary) {
  EXPECT_EQ(ParseContextSwitches(kStatus), 1537u);
}

TEST(ParseContextSwitches, BothLinesAreNeeded) {
  EXPECT_EQ(ParseContextSwitches("voluntary_ctxt_switches:\t1500\n"), std::nullopt);
  EXPECT_EQ(ParseContextSwitches("nonvoluntary_ctxt_switches:\t37\n"), std::nullopt);
  EXPECT_EQ(ParseContextSwitches("voluntary_ctxt_switches:\tmany\n"
                                 "nonvoluntary_ctxt_switches:\t37\n"),
            std::nullopt);
  EXPECT_EQ(ParseContextSwitches(""), std::nullopt);
}

// A /proc of our own: <root>/<pid>/task/<tid>/{schedstat,status}.
class FakeProc : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            ("fake_proc_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Thread(pid_t pid, pid_t tid, uint64_t ns, uint64_t voluntary, uint64_t involuntary) {
    const fs::path dir = root_ / std::to_string(pid) / "task" / std::to_string(tid);
    fs::create_directories(dir);
    std::ofstream(dir / "schedstat") << ns << " 1000 10\n";
    std::ofstream(dir / "status") << "Name:\tx\nvoluntary_ctxt_switches:\t" << voluntary
                                  << "\nnonvoluntary_ctxt_switches:\t" << involuntary << "\n";
  }
  void EndThread(pid_t pid, pid_t tid) {
    fs::remove_all(root_ / std::to_string(pid) / "task" / std::to_string(tid));
  }
  void EndProcess(pid_t pid) { fs::remove_all(root_ / std::to_string(pid)); }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

TEST_F(FakeProc, SumsEveryThreadOfEveryProcess) {
  Thread(100, 100, 1'000'000, 10, 1);  // a server's main thread
  Thread(100, 101, 5'000'000, 20, 2);  // its io thread
  Thread(200, 200, 3'000'000, 7, 0);   // a client
  const CpuSnapshot before = TakeCpuSnapshot({100, 200}, root());
  ASSERT_EQ(before.processes.size(), 2u);
  EXPECT_TRUE(before.processes[0].present);
  EXPECT_EQ(before.processes[0].threads.size(), 2u);

  Thread(100, 100, 1'500'000, 11, 1);  // +0.5 ms, +1 switch
  Thread(100, 101, 9'000'000, 30, 4);  // +4 ms, +12 switches
  Thread(200, 200, 3'250'000, 9, 1);   // +0.25 ms, +3 switches
  const CpuUsage u = CpuBetween(before, TakeCpuSnapshot({100, 200}, root()));
  EXPECT_EQ(u.cpu_ns, 4'750'000u);
  EXPECT_EQ(u.switches, 16u);
  EXPECT_TRUE(u.vanished.empty());
  EXPECT_EQ(u.threads_exited, 0);
}

TEST_F(FakeProc, ANewThreadCountsInFullAndAnExitedOneIsCounted) {
  Thread(100, 100, 1'000'000, 10, 0);
  Thread(100, 101, 2'000'000, 10, 0);
  const CpuSnapshot before = TakeCpuSnapshot({100}, root());
  EndThread(100, 101);
  Thread(100, 102, 700'000, 3, 1);  // started inside the window
  Thread(100, 100, 1'100'000, 12, 0);
  const CpuUsage u = CpuBetween(before, TakeCpuSnapshot({100}, root()));
  EXPECT_EQ(u.cpu_ns, 800'000u);
  EXPECT_EQ(u.switches, 6u);
  EXPECT_EQ(u.threads_exited, 1);
}

TEST_F(FakeProc, AVanishedProcessCountsAsZeroAndIsReported) {
  Thread(100, 100, 1'000'000, 10, 0);
  Thread(300, 300, 8'000'000, 50, 5);
  const CpuSnapshot before = TakeCpuSnapshot({100, 300, 400}, root());  // 400 never existed
  EXPECT_FALSE(before.processes[2].present);
  EndProcess(300);
  Thread(100, 100, 1'200'000, 11, 0);
  const CpuUsage u = CpuBetween(before, TakeCpuSnapshot({100, 300, 400}, root()));
  EXPECT_EQ(u.cpu_ns, 200'000u);
  EXPECT_EQ(u.switches, 1u);
  EXPECT_EQ(u.vanished, (std::vector<pid_t>{300, 400}));
}

TEST_F(FakeProc, AThreadWithoutASchedstatIsLeftOutAndBadStatusCountsNoSwitches) {
  Thread(100, 100, 1'000'000, 10, 0);
  const fs::path half = fs::path(root()) / "100" / "task" / "101";
  fs::create_directories(half);  // exited between readdir and the read
  const fs::path bare = fs::path(root()) / "100" / "task" / "102";
  fs::create_directories(bare);
  std::ofstream(bare / "schedstat") << "500 1 1\n";
  const ProcessCpu p = ReadProcessCpu(100, root());
  EXPECT_TRUE(p.present);
  ASSERT_EQ(p.threads.size(), 2u);
  EXPECT_EQ(p.threads.at(102).cpu_ns, 500u);
  EXPECT_EQ(p.threads.at(102).switches, 0u);
}

// The real /proc: this process's own threads, around work that needs the CPU.
TEST(RealProc, ThisProcessUsesCpuBetweenTwoSnapshots) {
  const CpuSnapshot before = TakeCpuSnapshot({::getpid()});
  ASSERT_TRUE(before.processes[0].present);
  ASSERT_TRUE(before.processes[0].threads.count(::getpid()));
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 20'000'000; ++i) sink = sink + i * i;
  const CpuUsage u = CpuBetween(before, TakeCpuSnapshot({::getpid()}));
  EXPECT_GT(u.cpu_ns, 0u);
  EXPECT_TRUE(u.vanished.empty());
}

}  // namespace
}  // namespace lockmesh::bench::comparison
