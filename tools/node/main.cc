// lockmesh-node: one node of a lockmesh cluster as a process, a voter or a member, serving
// the local lock API on a Unix socket (docs/local-api.md) and, if asked, /metrics and
// /status on a loopback TCP address.
//
//   lockmesh-node --name=n1 --bind=127.0.0.1:7101
//       --voters=n1@127.0.0.1:7101,n2@127.0.0.1:7102,n3@127.0.0.1:7103
//       --cluster=demo --key_file=/etc/lockmesh/key --api_socket=/run/lockmesh/n1.sock
//       --http=127.0.0.1:9464
//
// Prints "lockmesh-node <name> ready api=<socket> http=<address|off>" on stdout once it
// serves; log records go to stderr. SIGTERM or SIGINT: it closes the API (every connection's
// leases released), leaves the cluster gracefully, removes the socket file and exits 0.
// Exit 2: bad flags or the node could not start; 1: a socket could not be served.
#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lockmesh/lockmesh.h"
#include "tools/http/node_status.h"
#include "tools/http/server.h"
#include "tools/limits.h"
#include "tools/node/config_file.h"
#include "tools/node/lock_api.h"
#include "tools/node_flags.h"

ABSL_FLAG(std::string, config, "",
          "file of flag=value lines read before the command line (which overrides it)");
ABSL_FLAG(std::string, api_socket, "",
          "the local lock API's Unix socket (default /run/lockmesh/<name>.sock); whoever may "
          "open it may take and release locks");
ABSL_FLAG(std::string, api_socket_owner, "",
          "user owning the API socket (default: this process's)");
ABSL_FLAG(std::string, api_socket_group, "",
          "group owning the API socket (default: this process's); its members may use it");
ABSL_FLAG(std::string, http, "",
          "loopback ip:port serving GET /metrics (Prometheus) and GET /status (JSON); off when "
          "empty");

namespace {

using lockmesh::tools::http::Server;
using lockmesh::tools::http::ServerLimits;

int Fail(int code, absl::string_view what) {
  std::fprintf(stderr, "lockmesh-node: %.*s\n", static_cast<int>(what.size()), what.data());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "one lockmesh node as a process: a voter or a member, serving the local lock API on a "
      "Unix socket and /metrics, /status over HTTP.\n  lockmesh-node --name=n1 --bind=ip:port "
      "--voters=n1@ip:port,... --cluster=NAME --key_file=FILE [--api_socket=PATH] "
      "[--http=127.0.0.1:9464]");
  // --help lists this program's flags and the shared node flags (absl's default looks for a
  // file named after the program).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "tools/node/") || absl::StrContains(file, "tools/node_flags");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::StatusOr<std::vector<std::string>> args = lockmesh::tools::ExpandConfigFile(argc, argv);
  if (!args.ok()) return Fail(2, args.status().message());
  std::vector<char*> arg_ptrs;
  for (std::string& a : *args) arg_ptrs.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());

  // Blocked before any thread starts, so every thread inherits the mask.
  const sigset_t stop = lockmesh::tools::BlockStopSignals();

  absl::StatusOr<lockmesh::NodeOptions> options = lockmesh::tools::NodeOptionsFromFlags();
  if (!options.ok()) return Fail(2, options.status().message());
  std::string api_path = absl::GetFlag(FLAGS_api_socket);
  if (api_path.empty()) {
    ::mkdir("/run/lockmesh", 0755);
    api_path = absl::StrCat("/run/lockmesh/", options->name, ".sock");
  }
  const auto lease_max = options->lease_duration_max;

  // The node runs on a thread of its own; HTTP on another io_context and thread, because
  // /status needs Node::Members(), which blocks on the node's thread and so cannot run on it,
  // and because a slow client must never delay the protocol's timers.
  absl::StatusOr<std::unique_ptr<lockmesh::Node>> node = lockmesh::Node::Start(*options);
  if (!node.ok()) return Fail(2, absl::StrCat("cannot start: ", node.status().message()));

  boost::asio::io_context io;
  lockmesh::tools::LockApi api(**node, io, lease_max);
  const ServerLimits api_limits{.body_bytes_max = lockmesh::tools::kApiBodyBytesMax,
                                .connections_max = lockmesh::tools::kHttpConnectionsMax};
  absl::StatusOr<std::unique_ptr<Server>> api_server =
      Server::ListenUnix(io, api_path,
                         {.owner = absl::GetFlag(FLAGS_api_socket_owner),
                          .group = absl::GetFlag(FLAGS_api_socket_group)},
                         api.Sessions(), api_limits);
  if (!api_server.ok()) return Fail(1, api_server.status().message());
  std::unique_ptr<Server> http_server;
  if (const std::string http = absl::GetFlag(FLAGS_http); !http.empty()) {
    absl::StatusOr<std::unique_ptr<Server>> s = Server::ListenTcp(
        io, http,
        lockmesh::tools::NodeEndpoints(
            **node, [&api](lockmesh::tools::JsonWriter& w) { api.WriteLeases(w); }),
        api_limits);
    if (!s.ok()) return Fail(1, s.status().message());
    http_server = *std::move(s);
  }
  auto work = boost::asio::make_work_guard(io);
  std::thread http_thread([&io] { io.run(); });
  std::printf("lockmesh-node %s ready api=%s http=%s\n", (*node)->name().c_str(),
              (*api_server)->address().c_str(),
              http_server ? http_server->address().c_str() : "off");
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop, &signal);
  // First the API: closing its connections cancels waiting acquires and releases their
  // leases; then the node leaves the cluster.
  std::promise<void> closed;
  boost::asio::post(io, [&] {
    (*api_server)->Close();
    if (http_server) http_server->Close();
    closed.set_value();
  });
  closed.get_future().wait();
  (*node)->Stop();
  work.reset();
  io.stop();
  http_thread.join();
  return 0;
}
