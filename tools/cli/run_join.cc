// `lockmesh run --join`: no local node; lockmesh starts a short-lived member itself (never a
// voter), takes the lease through the library, runs the command, and leaves the cluster.
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/crypto/key.h"
#include "lockmesh/lockmesh.h"
#include "tools/cli/child.h"
#include "tools/cli/failure.h"
#include "tools/cli/run.h"
#include "tools/node_flags.h"

namespace lockmesh::cli {
namespace {

using std::chrono::milliseconds;

// A pipe the node's callbacks write one byte to, so the main thread can poll() for them.
struct Doorbell {
  int fds[2] = {-1, -1};
  Doorbell() { [[maybe_unused]] int r = ::pipe2(fds, O_CLOEXEC | O_NONBLOCK); }
  ~Doorbell() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void Ring() const { [[maybe_unused]] ssize_t n = ::write(fds[1], "x", 1); }
  void Drain() const {
    char buf[64];
    while (::read(fds[0], buf, sizeof(buf)) > 0) {
    }
  }
};

// The library reports a loss before the deadline (on_lost rings the doorbell); valid() also
// turns false at the deadline itself, so a missed callback cannot keep the command running.
class HandleWatch : public LeaseWatch {
 public:
  HandleWatch(const Lease& lease, const Doorbell& lost, milliseconds period)
      : lease_(lease), lost_(lost), period_(period) {}
  int fd() const override { return lost_.fds[0]; }
  milliseconds period() const override { return period_; }
  absl::Status Check() override {
    lost_.Drain();
    if (lease_.valid()) return absl::OkStatus();
    return Fail(kExitLeaseLost, lease_.lost() ? "the member reported it lost" : "it expired");
  }

 private:
  const Lease& lease_;
  const Doorbell& lost_;
  const milliseconds period_;
};

// Hands --join's node flags to tools/node_flags.h, with the defaults of a short-lived member.
absl::Status ApplyNodeFlags(const Invocation& inv) {
  bool bind = false, name = false, key_file = false;
  auto set = [](const std::string& flag, const std::string& value) -> absl::Status {
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(flag);
    if (f == nullptr) return Fail(kExitInternal, absl::StrCat("no node flag --", flag));
    std::string error;
    if (!f->ParseFrom(value, &error)) {
      return Fail(kExitUsage, absl::StrCat("--", flag, ": ", error));
    }
    return absl::OkStatus();
  };
  for (const auto& [flag, value] : inv.node_flags) {
    if (absl::Status s = set(flag, value); !s.ok()) return s;
    bind |= flag == "bind";
    name |= flag == "name";
    key_file |= flag == "key_file";
  }
  if (!key_file) return Fail(kExitUsage, "--join needs --key_file");
  // A free port on loopback: the member lives for one command. Across machines, pass
  // --bind=<this host's address>:0.
  if (!bind) (void)set("bind", "127.0.0.1:0");
  if (!name) {
    char host[64] = {};
    ::gethostname(host, sizeof(host) - 1);
    (void)set("name", absl::StrCat("run-", host, "-", ::getpid()).substr(0, 64));
  }
  return absl::OkStatus();
}

// The key file must hold a key (lib/crypto/key.h); said apart from other option problems.
absl::Status CheckKeyFile(const Invocation& inv) {
  std::string path;
  for (const auto& [flag, value] : inv.node_flags) {
    if (flag == "key_file") path = value;
  }
  std::ifstream in(path);
  if (!in) return Fail(kExitBadKey, absl::StrCat("cannot read the key file ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (absl::StatusOr<crypto::Key> key = crypto::ParseKey(text.str()); !key.ok()) {
    return Fail(kExitBadKey, absl::StrCat("no key in ", path, ": ", key.status().message()));
  }
  return absl::OkStatus();
}

// Waits for the acquire, or for a signal to lockmesh (which cancels it). The result, or the
// signal number.
std::variant<absl::StatusOr<Lease>, int> AwaitAcquire(Node& node, const Invocation& inv,
                                                      std::shared_ptr<const Doorbell> lost) {
  struct Shared {
    absl::Mutex mu;
    std::optional<absl::StatusOr<Lease>> result;
    Doorbell done;
  };
  auto shared = std::make_shared<Shared>();
  CancelSignal cancel;
  AcquireOptions options{.duration = inv.ttl,
                         .wait = inv.wait,
                         .auto_renew = true,
                         .on_lost = [lost](const absl::Status&) { lost->Ring(); },
                         .cancel = cancel};
  node.AcquireAsync(inv.operand, std::move(options), [shared](absl::StatusOr<Lease> r) {
    absl::MutexLock lock(&shared->mu);
    shared->result = std::move(r);
    shared->done.Ring();
  });
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, s);
  const int sfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  int caught = 0;
  while (true) {
    pollfd fds[2] = {{shared->done.fds[0], POLLIN, 0}, {sfd, POLLIN, 0}};
    ::poll(fds, sfd >= 0 ? 2 : 1, -1);
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      if (::read(sfd, &info, sizeof(info)) == sizeof(info) && caught == 0) {
        caught = static_cast<int>(info.ssi_signo);
        cancel.Cancel();
      }
    }
    absl::MutexLock lock(&shared->mu);
    if (shared->result) break;
  }
  ::close(sfd);
  absl::MutexLock lock(&shared->mu);
  if (caught != 0) return caught;  // a lease granted meanwhile is released by its handle
  return std::move(*shared->result);
}

}  // namespace

int RunJoin(const Invocation& inv) {
  // Before the node starts, so its threads inherit the mask and signals reach signalfd.
  const sigset_t old_mask = BlockRunSignals();
  // Shared with the node's on_lost callback, which may run until the node stops.
  const auto lost = std::make_shared<const Doorbell>();
  if (absl::Status s = ApplyNodeFlags(inv); !s.ok()) return Complain(s);
  if (absl::Status s = CheckKeyFile(inv); !s.ok()) return Complain(s);
  absl::StatusOr<NodeOptions> options = tools::NodeOptionsFromFlags();
  if (!options.ok()) return Complain(Fail(kExitConfig, options.status().message()));
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Start(*std::move(options));
  if (!node.ok()) {
    return Complain(Fail(absl::IsInvalidArgument(node.status()) ? kExitConfig : kExitStartFailed,
                         absl::StrCat("cannot start the member: ", node.status().message())));
  }
  std::variant<absl::StatusOr<Lease>, int> acquired = AwaitAcquire(**node, inv, lost);
  if (const int* signal = std::get_if<int>(&acquired)) {
    (*node)->Stop();
    return 128 + *signal;
  }
  absl::StatusOr<Lease>& lease = std::get<absl::StatusOr<Lease>>(acquired);
  if (!lease.ok()) {
    (*node)->Stop();
    return Complain(Annotate(lease.status(), absl::StrCat("cannot take \"", inv.operand, "\": ")));
  }
  HandleWatch watch(*lease, *lost, WatchPeriod(inv.ttl));
  const Outcome out = Supervise(
      inv.command,
      {{"LOCKMESH_TOKEN", std::to_string(lease->token())}, {"LOCKMESH_RESOURCE", inv.operand}},
      inv.grace, watch, old_mask);
  const absl::Status released = lease->Release();
  (*node)->Stop();  // leaves the cluster gracefully
  if (!out.exec_error.empty()) {
    std::fprintf(stderr, "lockmesh: %s\n", out.exec_error.c_str());
    return out.status;
  }
  if (out.lost || !released.ok()) {
    return Complain(
        Fail(kExitLeaseLost, absl::StrCat("lease on \"", inv.operand, "\" lost (",
                                          out.lost ? out.why.message() : released.message(),
                                          out.lost ? "); the command was stopped" : ")")));
  }
  return out.status;
}

}  // namespace lockmesh::cli
