// The timeline's data as JSON, escaped to sit inside an HTML <script> element.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/checker.h"
#include "sim/simulation.h"
#include "sim/timeline.h"

namespace lockmesh::sim {
namespace {

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t Utf8Length(absl::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  std::size_t n = 0;
  uint8_t low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

const char* OutcomeName(StoreOutcome outcome) {
  switch (outcome) {
    case StoreOutcome::kWritten:
      return "written";
    case StoreOutcome::kLostUpdate:
      return "lost update";
    case StoreOutcome::kRefused:
      return "write refused";
    case StoreOutcome::kReadRefused:
      return "read refused";
  }
  return "?";
}

// Appends `items` as a JSON array, each written by `one(out, item)`.
template <typename T, typename Fn>
void AppendArray(std::string& out, absl::string_view key, const std::vector<T>& items, Fn one) {
  absl::StrAppend(&out, "\"", key, "\":[");
  bool first = true;
  for (const T& item : items) {
    if (!first) out += ",\n";
    first = false;
    one(out, item);
  }
  out += "]";
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      // '<', '>' and '&' escaped: no "</script>" or "<!--" can close or confuse
      // the element the JSON sits in.
      if (c == '"' || c == '\\') {
        absl::StrAppend(&out, "\\", std::string(1, static_cast<char>(c)));
      } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
        absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    const absl::string_view sequence = text.substr(i, n);
    // U+2028 and U+2029 end a line in older script parsers.
    if (sequence == "\xe2\x80\xa8" || sequence == "\xe2\x80\xa9") {
      out += sequence == "\xe2\x80\xa8" ? "\\u2028" : "\\u2029";
    } else {
      out.append(sequence.data(), sequence.size());
    }
    i += n;
  }
  return out + "\"";
}

std::string TimelineJson(const Scenario& scenario, uint64_t seed, const RunResult& result,
                         const TimelineRecorder& timeline) {
  const auto str = [](absl::string_view s) { return JsonString(s); };
  const RunStats& stats = result.stats;
  std::string out =
      absl::StrCat("{\"scenario\":{\"name\":", str(scenario.name),
                   ",\"description\":", str(scenario.description), ",\"voters\":", scenario.voters,
                   ",\"members\":", scenario.members, ",\"clients\":", scenario.clients_per_node,
                   ",\"lease_us\":", scenario.lease_us, ",\"run_us\":", scenario.run_us,
                   ",\"quiet_us\":", timeline.quiet_us(), "},\n\"seed\":", str(absl::StrCat(seed)),
                   ",\"trace\":", str(absl::StrFormat("%016x", result.trace_hash)),
                   ",\"pass\":", result.violations.empty() ? "true" : "false",
                   ",\"rates_in_bound\":", result.rates_in_bound ? "true" : "false",
                   ",\n\"stats\":{\"grants\":", stats.grants, ",\"releases\":", stats.releases,
                   ",\"expiries\":", stats.expiries, ",\"writes\":", stats.writes,
                   ",\"refused\":", stats.stale_refused, ",\"faults\":", stats.faults, "},\n");
  out += "\"nodes\":[";
  for (int i = 0; i < scenario.Nodes(); ++i) {
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", str(absl::StrCat("n", i)),
                    ",\"voter\":", i < scenario.voters ? "true" : "false", "}");
  }
  out += "],\n";
  AppendArray(out, "leases", timeline.leases(), [&](std::string& o, const auto& l) {
    absl::StrAppend(&o, "{\"node\":", l.node, ",\"client\":", l.client,
                    ",\"resource\":", str(l.resource), ",\"token\":", str(FormatToken(l.token)),
                    ",\"start\":", l.start_us, ",\"valid_until\":", l.valid_until_us,
                    ",\"end\":", l.end_us, ",\"how\":", str(l.end), ",\"renewals\":", l.renewals,
                    ",\"renew_failed\":[");
    for (std::size_t k = 0; k < l.renew_failed_us.size(); ++k) {
      absl::StrAppend(&o, k ? "," : "", l.renew_failed_us[k]);
    }
    o += "]}";
  });
  out += ",\n";
  AppendArray(out, "waits", timeline.waits(), [&](std::string& o, const auto& w) {
    absl::StrAppend(&o, "{\"node\":", w.node, ",\"client\":", w.client,
                    ",\"resource\":", str(w.resource), ",\"start\":", w.start_us,
                    ",\"end\":", w.end_us, ",\"how\":", str(w.end), "}");
  });
  const auto span = [&](std::string& o, const TimelineRecorder::Span& s) {
    absl::StrAppend(&o, "{\"node\":", s.node, ",\"start\":", s.start_us, ",\"end\":", s.end_us,
                    ",\"what\":", str(s.what), "}");
  };
  out += ",\n";
  AppendArray(out, "down", timeline.down(), span);
  out += ",\n";
  AppendArray(out, "pauses", timeline.pauses(), span);
  out += ",\n";
  AppendArray(out, "faults", timeline.faults(), [&](std::string& o, const auto& f) {
    absl::StrAppend(&o, "{\"at\":", f.at_us, ",\"node\":", f.node, ",\"text\":", str(f.text),
                    ",\"kind\":", str(f.kind), "}");
  });
  out += ",\n";
  AppendArray(out, "network", timeline.network(), [&](std::string& o, const auto& n) {
    absl::StrAppend(&o, "{\"at\":", n.at_us, ",\"description\":", str(n.description),
                    ",\"reach\":[");
    for (std::size_t k = 0; k < n.reach.size(); ++k)
      absl::StrAppend(&o, k ? "," : "", str(n.reach[k]));
    o += "]}";
  });
  out += ",\n";
  AppendArray(out, "store", timeline.store(), [&](std::string& o, const auto& s) {
    absl::StrAppend(&o, "{\"at\":", s.at_us, ",\"node\":", s.node, ",\"client\":", s.client,
                    ",\"resource\":", str(s.resource), ",\"token\":", str(FormatToken(s.token)),
                    ",\"highest\":", str(FormatToken(s.highest)),
                    ",\"outcome\":", str(OutcomeName(s.outcome)), "}");
  });
  out += ",\n";
  AppendArray(out, "violations", result.violations, [&](std::string& o, const Violation& v) {
    absl::StrAppend(&o, "{\"property\":", str(v.property), ",\"at\":", v.at_us,
                    ",\"detail\":", str(v.detail), "}");
  });
  out += ",\n";
  AppendArray(out, "truncated", timeline.Truncated(),
              [&](std::string& o, const std::string& line) { o += str(line); });
  return out + "}\n";
}

}  // namespace lockmesh::sim
