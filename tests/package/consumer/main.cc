// File: tests/package/consumer/main.cc
//
// The smallest application of the installed package: one node that is the whole voter set,
// one lease. Prints the fencing token; exits 0 only if the lease was granted with a token.
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include "lockmesh/lockmesh.h"

int main() {
  using namespace std::chrono_literals;
  lockmesh::NodeOptions options;
  options.name = "pkg-1";
  options.bind_address = "127.0.0.1:0";
  options.voters = {{"pkg-1", ""}};
  options.cluster_name = "pkg";
  options.keys = {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"};
  options.timing = lockmesh::Timing::kLocal;
  options.bootstrap = true;
  options.lease_duration_max = 5s;

  absl::StatusOr<std::unique_ptr<lockmesh::Node>> node = lockmesh::Node::Start(std::move(options));
  if (!node.ok()) {
    std::fprintf(stderr, "start: %s\n", node.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<lockmesh::Lease> lease = (*node)->Acquire("pkg-test", {.duration = 1s});
  if (!lease.ok()) {
    std::fprintf(stderr, "acquire: %s\n", lease.status().ToString().c_str());
    return 1;
  }
  std::printf("lease %s token %llu\n", lease->resource().c_str(),
              static_cast<unsigned long long>(lease->token()));
  return lease->token() > 0 ? 0 : 1;
}
