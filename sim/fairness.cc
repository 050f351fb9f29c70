#include "sim/fairness.h"

#include "absl/strings/str_format.h"
#include "sim/checker.h"

namespace lockmesh::sim {

void Fairness::OnAcquire(int64_t now, const std::string& resource, const core::Owner& owner,
                         core::Ballot ticket) {
  if (now >= faults_from_us_ || ticket == 0 || done_.contains(KeyOf(owner))) return;
  auto [it, fresh] = requests_.try_emplace(KeyOf(owner));
  if (!fresh) return;
  Request& r = it->second;
  r.resource = resource;
  r.ticket = ticket;
  for (const auto& [key, other] : requests_) {
    if (other.resource == resource && other.ticket < ticket &&
        queued_everywhere_(resource, std::get<0>(key), other.ticket)) {
      r.ahead.push_back(key);
    }
  }
}

std::optional<std::string> Fairness::OnGranted(int64_t now, const core::Owner& owner) {
  auto it = requests_.find(KeyOf(owner));
  if (it == requests_.end()) return std::nullopt;
  const Request granted = std::move(it->second);
  requests_.erase(it);
  if (now >= faults_from_us_) {
    requests_.clear();  // faults from here on: nothing more is judged
    done_.clear();
    return std::nullopt;
  }
  done_.insert(KeyOf(owner));
  ++judged_;
  if (!granted.ahead.empty()) ++contested_;
  for (const Key& key : granted.ahead) {
    auto waiter = requests_.find(key);
    if (waiter == requests_.end()) continue;  // granted before, or gave up
    return absl::StrFormat(
        "'%s' granted to request %x/%d/%d (ticket %s) while request %x/%d/%d (ticket %s), in "
        "every voter's line before the other reached any, still waited",
        granted.resource, owner.node, owner.incarnation, owner.request, FormatToken(granted.ticket),
        std::get<0>(key), std::get<1>(key), std::get<2>(key), FormatToken(waiter->second.ticket));
  }
  return std::nullopt;
}

void Fairness::OnGaveUp(const core::Owner& owner) {
  if (requests_.erase(KeyOf(owner)) != 0) done_.insert(KeyOf(owner));
}

}  // namespace lockmesh::sim
