// lockmesh-example-counter: an application server that embeds a lockmesh node and protects a
// counter kept in a shared file with a lease and its fencing token.
//
// Each increment takes the lease "counter", then asks the "store" (the file, guarded by
// flock as a storage service would guard its own state) to write value + 1 stamped with the
// lease's token. The store refuses a token not greater than the last one it accepted, so a
// holder that stalled past its lease cannot overwrite a newer holder's write.
//
//   lockmesh-example-counter --name=n1 --bind=127.0.0.1:7101
//       --voters=n1@127.0.0.1:7101,n2@127.0.0.1:7102,n3@127.0.0.1:7103
//       --cluster=demo --key_file=key --bootstrap --file=/tmp/counter --increments=100
//
// Prints, one line each, flushed: "READY <name> <address> quarantined=<0|1>", then
// "GRANTED <token> time=<RFC 3339 µs UTC> value=<value written> wait_us=<µs waited for the
// lease>" per increment (or "FENCED <token>" if the store refused it), then "DONE <n> fenced=<k>"
// (totals over all --callers threads, each making --increments increments). With --hold it takes
// the lease once, keeps renewing it, writes once and prints "HOLDING <token>". It keeps serving as
// a member (and voter) until SIGINT or SIGTERM, then leaves the cluster and prints "STOPPED";
// --exit_when_done leaves after DONE. With --http=127.0.0.1:PORT it serves GET /metrics and GET
// /status as lockmesh-node does (without leases in /status: the counter's callers hold theirs
// directly).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "lockmesh/lockmesh.h"
#include "tools/http/node_status.h"
#include "tools/http/server.h"
#include "tools/limits.h"
#include "tools/node_flags.h"

ABSL_FLAG(std::string, file, "", "the counter file, shared by all instances");
ABSL_FLAG(int, increments, 0, "how many fenced increments each caller makes");
ABSL_FLAG(int, callers, 1, "caller threads, each making --increments increments");
ABSL_FLAG(bool, hold, false, "take the lease once and hold it (renewing) until killed");
ABSL_FLAG(int64_t, lease_ms, 2000, "lease duration");
ABSL_FLAG(int64_t, wait_ms, 30000, "how long one acquire may wait");
ABSL_FLAG(bool, exit_when_done, false, "leave the cluster after the increments");
ABSL_FLAG(std::string, http, "",
          "loopback ip:port serving GET /metrics (Prometheus) and GET /status (JSON); off when "
          "empty");

namespace {

void Say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// The store: "<value> <token>\n" in a file, updated under flock. Returns the value written,
// or nullopt (refused) if `token` is not greater than the stored one.
std::optional<uint64_t> FencedIncrement(const std::string& path, uint64_t token) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) {
    std::perror("open counter file");
    std::exit(2);
  }
  ::flock(fd, LOCK_EX);
  char buf[64] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  uint64_t value = 0, last = 0;
  if (n > 0) std::sscanf(buf, "%" SCNu64 " %" SCNu64, &value, &last);
  bool ok = token > last;
  if (ok) {
    const std::string text = std::to_string(value + 1) + " " + std::to_string(token) + "\n";
    ok = ::ftruncate(fd, 0) == 0 &&
         ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!ok) return std::nullopt;
  return value + 1;
}

// One caller: `increments` fenced increments, each under a lease on "counter". Prints
// GRANTED (with the wait for the lease) or FENCED per increment, FAILED per failed acquire.
void Increments(lockmesh::Node& node, const std::string& file,
                const lockmesh::AcquireOptions& options, int increments, std::atomic<int>& done,
                std::atomic<int>& fenced) {
  for (int i = 0; i < increments; ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<lockmesh::Lease> lease = node.Acquire("counter", options);
    const auto wait_us = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    if (!lease.ok()) {
      Say("FAILED " + std::string(lease.status().message()));
      if (absl::IsCancelled(lease.status())) return;  // the node is stopping
      continue;
    }
    if (const std::optional<uint64_t> value = FencedIncrement(file, lease->token())) {
      ++done;
      // wait_us stays last: the cluster benchmark reads it to the end of the line.
      Say("GRANTED " + std::to_string(lease->token()) +
          " time=" + lockmesh::tools::LogTimestamp(absl::Now()) +
          " value=" + std::to_string(*value) + " wait_us=" + std::to_string(wait_us.count()));
    } else {
      ++fenced;
      Say("FENCED " + std::to_string(lease->token()));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("a fenced counter protected by a lockmesh lease");
  absl::ParseCommandLine(argc, argv);
  // Blocked before any thread starts, so every thread inherits the mask.
  const sigset_t stop = lockmesh::tools::BlockStopSignals();

  absl::StatusOr<lockmesh::NodeOptions> options = lockmesh::tools::NodeOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<lockmesh::Node>> node = lockmesh::Node::Start(*options);
  if (!node.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(node.status().message()).c_str());
    return 2;
  }
  // /metrics and /status on an io_context and thread of their own: /status calls
  // Node::Members(), which blocks on the node's thread.
  boost::asio::io_context http_io;
  std::unique_ptr<lockmesh::tools::http::Server> http_server;
  if (const std::string http = absl::GetFlag(FLAGS_http); !http.empty()) {
    auto s = lockmesh::tools::http::Server::ListenTcp(
        http_io, http, lockmesh::tools::NodeEndpoints(**node, lockmesh::tools::WriteNoLeases),
        {.body_bytes_max = lockmesh::tools::kApiBodyBytesMax,
         .connections_max = lockmesh::tools::kHttpConnectionsMax});
    if (!s.ok()) {
      std::fprintf(stderr, "cannot serve --http: %s\n", std::string(s.status().message()).c_str());
      return 2;
    }
    http_server = *std::move(s);
  }
  auto http_work = boost::asio::make_work_guard(http_io);
  std::thread http_thread([&http_io] { http_io.run(); });
  const lockmesh::Metrics m = (*node)->GetMetrics();
  Say("READY " + (*node)->name() + " " + (*node)->address() + " quarantined=" +
      (m.quarantined ? "1" : "0") + (http_server ? " http=" + http_server->address() : ""));

  const std::string file = absl::GetFlag(FLAGS_file);
  const auto lease_ms = std::chrono::milliseconds(absl::GetFlag(FLAGS_lease_ms));
  const auto wait_ms = std::chrono::milliseconds(absl::GetFlag(FLAGS_wait_ms));
  lockmesh::Lease held;  // --hold
  std::thread worker([&] {
    if (absl::GetFlag(FLAGS_hold)) {
      absl::StatusOr<lockmesh::Lease> lease =
          (*node)->Acquire("counter", {.duration = lease_ms, .wait = wait_ms, .auto_renew = true});
      if (!lease.ok()) {
        Say("FAILED " + std::string(lease.status().message()));
        return;
      }
      const bool ok = FencedIncrement(file, lease->token()).has_value();
      Say(std::string(ok ? "HOLDING " : "FENCED ") + std::to_string(lease->token()));
      held = *std::move(lease);
      return;
    }
    std::atomic<int> done = 0, fenced = 0;
    std::vector<std::thread> callers;
    for (int c = 0; c < std::max(1, absl::GetFlag(FLAGS_callers)); ++c) {
      callers.emplace_back([&] {
        Increments(**node, file, {.duration = lease_ms, .wait = wait_ms},
                   absl::GetFlag(FLAGS_increments), done, fenced);
      });
    }
    for (std::thread& t : callers) t.join();
    Say("DONE " + std::to_string(done) + " fenced=" + std::to_string(fenced));
    if (absl::GetFlag(FLAGS_exit_when_done)) kill(getpid(), SIGTERM);
  });
  int signal = 0;
  sigwait(&stop, &signal);
  // Stopping first ends a waiting acquire at once (Cancelled) and releases what is held.
  (*node)->Stop();
  worker.join();
  held = lockmesh::Lease();
  std::promise<void> closed;
  boost::asio::post(http_io, [&] {
    if (http_server) http_server->Close();
    closed.set_value();
  });
  closed.get_future().wait();
  http_work.reset();
  http_io.stop();
  http_thread.join();
  Say("STOPPED");
  return 0;
}
