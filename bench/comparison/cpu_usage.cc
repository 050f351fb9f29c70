#include "bench/comparison/cpu_usage.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace lockmesh::bench::comparison {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// The value of "key:\t<n>" in a status file.
std::optional<uint64_t> StatusField(absl::string_view status, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, key) || !absl::ConsumePrefix(&line, ":")) continue;
    uint64_t v = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &v)) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ParseSchedstat(absl::string_view text) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  uint64_t ns = 0;
  if (fields.empty() || !absl::SimpleAtoi(fields[0], &ns)) return std::nullopt;
  return ns;
}

std::optional<uint64_t> ParseContextSwitches(absl::string_view status) {
  const std::optional<uint64_t> voluntary = StatusField(status, "voluntary_ctxt_switches");
  const std::optional<uint64_t> involuntary = StatusField(status, "nonvoluntary_ctxt_switches");
  if (!voluntary || !involuntary) return std::nullopt;
  return *voluntary + *involuntary;
}

ProcessCpu ReadProcessCpu(pid_t pid, const std::string& proc_root) {
  ProcessCpu p{.pid = pid};
  const std::string tasks = absl::StrCat(proc_root, "/", pid, "/task");
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) return p;
  while (const dirent* e = ::readdir(dir)) {
    pid_t tid = 0;
    if (!absl::SimpleAtoi(e->d_name, &tid)) continue;  // "." and ".."
    const std::string base = absl::StrCat(tasks, "/", tid);
    const std::optional<std::string> sched = ReadFile(base + "/schedstat");
    const std::optional<std::string> status = ReadFile(base + "/status");
    const std::optional<uint64_t> ns = sched ? ParseSchedstat(*sched) : std::nullopt;
    if (!ns) continue;  // the thread exited between readdir and the read
    const std::optional<uint64_t> sw = status ? ParseContextSwitches(*status) : std::nullopt;
    p.threads[tid] = ThreadCpu{.cpu_ns = *ns, .switches = sw.value_or(0)};
  }
  ::closedir(dir);
  // A zombie keeps its task directory but no readable thread: gone all the same.
  p.present = !p.threads.empty();
  return p;
}

CpuSnapshot TakeCpuSnapshot(const std::vector<pid_t>& pids, const std::string& proc_root) {
  CpuSnapshot s;
  for (pid_t pid : pids) s.processes.push_back(ReadProcessCpu(pid, proc_root));
  return s;
}

CpuUsage CpuBetween(const CpuSnapshot& before, const CpuSnapshot& after) {
  CpuUsage u;
  std::map<pid_t, const ProcessCpu*> earlier;
  for (const ProcessCpu& p : before.processes) earlier[p.pid] = &p;
  for (const ProcessCpu& now : after.processes) {
    auto it = earlier.find(now.pid);
    if (!now.present || it == earlier.end() || !it->second->present) {
      u.vanished.push_back(now.pid);
      continue;
    }
    const ProcessCpu& then = *it->second;
    for (const auto& [tid, t] : now.threads) {
      auto was = then.threads.find(tid);
      const ThreadCpu zero;
      const ThreadCpu& from = was == then.threads.end() ? zero : was->second;
      u.cpu_ns += t.cpu_ns >= from.cpu_ns ? t.cpu_ns - from.cpu_ns : t.cpu_ns;
      u.switches += t.switches >= from.switches ? t.switches - from.switches : t.switches;
    }
    for (const auto& [tid, t] : then.threads) u.threads_exited += now.threads.count(tid) == 0;
  }
  return u;
}

}  // namespace lockmesh::bench::comparison
