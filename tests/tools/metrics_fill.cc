#include "tests/tools/metrics_fill.h"

namespace lockmesh::tools::testing {

Metrics FilledMetrics() {
  Metrics m;
  for (uint64_t us : kFilledLatenciesUs) m.acquire_latency.Record(us);
  m.acquires_started = 1001;
  m.acquires_succeeded = 1002;
  m.acquires_failed = 1003;
  m.acquires_timed_out = 1004;
  m.acquires_cancelled = 1005;
  m.attempts = 1006;
  m.attempts_failed = 1007;
  m.attempts_queued = 1008;
  m.grants_at_release = 1009;
  m.releases = 1010;
  m.expiries = 1011;
  m.renewals = 1012;
  m.renewals_failed = 1013;
  m.leases_lost = 1014;
  m.leases_held = 1015;
  m.breaker_open = true;
  m.breaker_opens = 1016;
  m.breaker_rejections = 1017;
  m.breaker_deferrals = 1018;
  m.members_alive = 1019;
  m.members_suspect = 1020;
  m.members_dead = 1021;
  m.members_left = 1022;
  m.datagrams_sent = 1023;
  m.datagrams_received = 1024;
  m.bytes_sent = 1025;
  m.bytes_received = 1026;
  m.messages_sent = 1027;
  m.messages_received = 1028;
  m.send_errors = 1029;
  m.dropped_oversized = 1030;
  m.dropped_truncated = 1031;
  m.dropped_unknown_version = 1032;
  m.dropped_unknown_key = 1033;
  m.dropped_unauthenticated = 1034;
  m.dropped_replayed = 1035;
  m.dropped_malformed = 1036;
  m.dropped_voter_set_mismatch = 1037;
  m.dropped_misaddressed = 1038;
  m.dropped_unroutable = 1039;
  m.attempts_too_slow = 1040;
  m.probes = 1041;
  m.voter = true;
  m.quarantined = true;
  m.quarantine_remaining_ms = 12'345;
  return m;
}

}  // namespace lockmesh::tools::testing
