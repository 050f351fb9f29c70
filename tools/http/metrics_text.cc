#include "tools/http/metrics_text.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace lockmesh::tools {
namespace {

// One sample of a labelled family: the label's value and the field it reports.
struct Labelled {
  std::string_view value;
  uint64_t Metrics::*field;
};

// µs as exact decimal seconds ("0.000064", "67.108864"): no rounding, so a bucket's `le` and
// the `_sum` say exactly what the node measured.
std::string SecondsFromMicros(uint64_t us) {
  std::string out = std::to_string(us / 1'000'000);
  const uint64_t frac = us % 1'000'000;
  if (frac == 0) return out;
  std::string digits = std::to_string(frac + 1'000'000).substr(1);  // six digits, zero-padded
  while (digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

// `text` with each character in `special` written as a backslash and its escape letter.
std::string Escape(std::string_view text, std::string_view special) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (special.find(c) == std::string_view::npos) {
      out += c;
    } else {
      out += '\\';
      out += c == '\n' ? 'n' : c;
    }
  }
  return out;
}

// HELP text escapes only \ and newline (label values also escape the double quote).
std::string EscapeHelp(std::string_view help) { return Escape(help, "\\\n"); }

class Writer {
 public:
  explicit Writer(const Metrics& m) : m_(m) {}

  // Opens a family: its HELP and TYPE lines, once (every family below is opened exactly once).
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(EscapeHelp(help));
    out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_.append(name).append(labels).append(" ").append(value).append("\n");
  }
  static std::string Label(std::string_view key, std::string_view value) {
    return std::string("{").append(key).append("=\"").append(EscapeLabelValue(value)).append("\"}");
  }

  void Counter(std::string_view name, std::string_view help, uint64_t Metrics::*field) {
    Family(name, "counter", help);
    Sample(name, "", std::to_string(m_.*field));
  }
  void Gauge(std::string_view name, std::string_view help, std::string_view value) {
    Family(name, "gauge", help);
    Sample(name, "", value);
  }
  void LabelledFamily(std::string_view name, std::string_view type, std::string_view help,
                      std::string_view key, std::initializer_list<Labelled> samples) {
    Family(name, type, help);
    for (const Labelled& s : samples) {
      Sample(name, Label(key, s.value), std::to_string(m_.*(s.field)));
    }
  }
  // The datagram drop counters, one sample per reason of kDatagramDropReasons.
  void DropReasonFamily(std::string_view name, std::string_view help, std::string_view key) {
    Family(name, "counter", help);
    for (const DatagramDropReason& r : kDatagramDropReasons) {
      Sample(name, Label(key, r.name), std::to_string(m_.*(r.counter)));
    }
  }

  // Prometheus buckets are cumulative with an inclusive upper bound; ours count [Bound(i-1),
  // Bound(i)) µs, so a value exactly on a bound lands one bucket higher (1 µs of difference).
  void LatencyHistogram(std::string_view name, std::string_view help, const Histogram& h) {
    Family(name, "histogram", help);
    const std::string base(name);
    uint64_t cumulative = 0;
    for (int i = 0; i < Histogram::kBuckets - 1; ++i) {  // the last bucket is +Inf
      cumulative += h.counts[i];
      Sample(base + "_bucket", Label("le", SecondsFromMicros(Histogram::Bound(i))),
             std::to_string(cumulative));
    }
    // Histogram::Record bumps `count` with one bucket, so +Inf == the sum of all buckets.
    Sample(base + "_bucket", Label("le", "+Inf"), std::to_string(h.count));
    Sample(base + "_sum", "", SecondsFromMicros(h.sum_us));
    Sample(base + "_count", "", std::to_string(h.count));
  }

  std::string Take() { return std::move(out_); }

 private:
  const Metrics& m_;
  std::string out_;
};

void Acquires(Writer& w, const Metrics& m) {
  w.LatencyHistogram("lockmesh_acquire_latency_seconds",
                     "Time from an acquire call to its grant, granted requests only.",
                     m.acquire_latency);
  w.Gauge("lockmesh_acquire_latency_max_seconds", "The longest acquire latency seen.",
          SecondsFromMicros(m.acquire_latency.max_us));
  w.Counter("lockmesh_acquires_started_total", "Acquire requests made.",
            &Metrics::acquires_started);
  w.LabelledFamily(
      "lockmesh_acquires_total", "counter",
      "Acquire requests ended, by outcome: failed is no quorum, contended (try-acquire) "
      "or refused; timed_out is the wait limit passing.",
      "outcome",
      {{"succeeded", &Metrics::acquires_succeeded},
       {"failed", &Metrics::acquires_failed},
       {"timed_out", &Metrics::acquires_timed_out},
       {"cancelled", &Metrics::acquires_cancelled}});
  w.Counter("lockmesh_acquire_attempts_total",
            "Protocol attempts (ballots) made; a request makes one or more.", &Metrics::attempts);
  w.Counter("lockmesh_acquire_attempts_failed_total", "Attempts that won no majority.",
            &Metrics::attempts_failed);
  w.Counter("lockmesh_acquire_attempts_queued_total",
            "Failed attempts refused because another owner held the lease: the request waited "
            "its turn at the voters (contention, not a fault).",
            &Metrics::attempts_queued);
  w.Counter("lockmesh_grants_at_release_total",
            "Leases granted by the voters to a queued request as the previous lease ended, with "
            "no further round trip.",
            &Metrics::grants_at_release);
  w.Counter("lockmesh_acquire_attempts_too_slow_total",
            "Attempts that ran their whole timeout with voters still silent: the round trip does "
            "not fit the attempt timeout, or voters are down.",
            &Metrics::attempts_too_slow);
  w.Counter("lockmesh_probes_total",
            "Probes sent instead of acquires to voters not heard from lately.", &Metrics::probes);
}

void Leases(Writer& w, const Metrics& m) {
  w.LabelledFamily(
      "lockmesh_lease_ends_total", "counter",
      "Leases ended, by how: released by hand, expired at the deadline (hold cap, renewal "
      "off), or lost (reported before the deadline).",
      "how",
      {{"released", &Metrics::releases},
       {"expired", &Metrics::expiries},
       {"lost", &Metrics::leases_lost}});
  w.Counter("lockmesh_renewals_total", "Lease renewals that reached a majority.",
            &Metrics::renewals);
  w.Counter("lockmesh_renewals_failed_total", "Lease renewals that failed.",
            &Metrics::renewals_failed);
  w.Gauge("lockmesh_leases_held", "Leases this node holds now.", std::to_string(m.leases_held));
  w.Gauge("lockmesh_breaker_open",
          "1 while the circuit breaker is open (requests fail or wait at once), else 0.",
          m.breaker_open ? "1" : "0");
  w.Counter("lockmesh_breaker_opens_total", "Times the circuit breaker opened.",
            &Metrics::breaker_opens);
  w.Counter("lockmesh_breaker_rejections_total",
            "Requests failed at once while the breaker was open.", &Metrics::breaker_rejections);
  w.Counter("lockmesh_breaker_deferrals_total", "Requests made to wait for the breaker's cooldown.",
            &Metrics::breaker_deferrals);
  w.Gauge("lockmesh_voter", "1 if this node is a voter, else 0.", m.voter ? "1" : "0");
  w.Gauge("lockmesh_quarantined", "1 while this node's voter is in restart quarantine, else 0.",
          m.quarantined ? "1" : "0");
  w.Gauge("lockmesh_quarantine_remaining_seconds",
          "Time left in this node's restart quarantine (0 when not quarantined).",
          SecondsFromMicros(
              static_cast<uint64_t>(m.quarantine_remaining_ms > 0 ? m.quarantine_remaining_ms : 0) *
              1000));
}

void Network(Writer& w, const Metrics& m) {
  w.LabelledFamily("lockmesh_members", "gauge",
                   "Members this node knows, itself included, by state.", "state",
                   {{"alive", &Metrics::members_alive},
                    {"suspect", &Metrics::members_suspect},
                    {"dead", &Metrics::members_dead},
                    {"left", &Metrics::members_left}});
  w.Counter("lockmesh_datagrams_sent_total", "Datagrams sent.", &Metrics::datagrams_sent);
  w.Counter("lockmesh_datagrams_received_total", "Datagrams received, dropped ones included.",
            &Metrics::datagrams_received);
  w.Counter("lockmesh_sent_bytes_total", "Bytes of the datagrams sent.", &Metrics::bytes_sent);
  w.Counter("lockmesh_received_bytes_total", "Bytes of the datagrams received.",
            &Metrics::bytes_received);
  w.Counter("lockmesh_messages_sent_total", "Protocol messages sent (batched into datagrams).",
            &Metrics::messages_sent);
  w.Counter("lockmesh_messages_received_total", "Protocol messages received and decoded.",
            &Metrics::messages_received);
  w.Counter("lockmesh_send_errors_total",
            "Datagrams the socket refused to send (buffer full, unreachable) or messages that "
            "could not be encoded.",
            &Metrics::send_errors);
  w.DropReasonFamily("lockmesh_datagrams_dropped_total",
                     "Received datagrams (malformed: also messages inside one) dropped, by reason.",
                     "reason");
  w.LabelledFamily("lockmesh_messages_dropped_total", "counter",
                   "Protocol messages dropped after decoding, by reason: voter_set_mismatch is a "
                   "misconfigured sender; unroutable has no known address.",
                   "reason",
                   {{"voter_set_mismatch", &Metrics::dropped_voter_set_mismatch},
                    {"misaddressed", &Metrics::dropped_misaddressed},
                    {"unroutable", &Metrics::dropped_unroutable}});
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) { return Escape(value, "\\\"\n"); }

std::string PrometheusText(const Metrics& metrics) {
  Writer w(metrics);
  Acquires(w, metrics);
  Leases(w, metrics);
  Network(w, metrics);
  return w.Take();
}

}  // namespace lockmesh::tools
