#include "lib/crypto/keyring.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "lib/core/check.h"
#include "lib/crypto/init.h"

namespace lockmesh::crypto {

absl::StatusOr<std::unique_ptr<Keyring>> Keyring::Create(absl::Span<const Key> keys) {
  if (absl::Status s = InitCrypto(); !s.ok()) return s;
  if (keys.empty()) return absl::InvalidArgumentError("a keyring needs at least one key");
  if (keys.size() > core::kKeyringKeysMax) {
    return absl::InvalidArgumentError(absl::StrFormat("%d keys given; a keyring holds at most %d",
                                                      keys.size(), core::kKeyringKeysMax));
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (keys[i] == keys[j]) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "keys #%d and #%d are the same key (id %s)", j, i, FormatKeyId(keys[i].id())));
      }
      if (keys[i].id() == keys[j].id()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("keys #%d and #%d are different keys with the same key id %s; "
                            "generate another key",
                            j, i, FormatKeyId(keys[i].id())));
      }
    }
  }
  std::unique_ptr<Keyring> keyring(new Keyring());
  absl::MutexLock lock(&keyring->mu_);
  for (const Key& key : keys) {
    std::copy_n(key.data(), Key::kBytes, keyring->keys_[keyring->count_].begin());
    keyring->ids_[keyring->count_] = key.id();
    ++keyring->count_;
  }
  keyring->primary_ = 0;
  return keyring;
}

Keyring::~Keyring() {
  absl::MutexLock lock(&mu_);
  sodium_memzero(keys_.data(), sizeof keys_);
}

absl::Status Keyring::AddKey(const Key& key) {
  absl::MutexLock lock(&mu_);
  if (const int i = IndexOf(key.id()); i >= 0) {
    if (IndexOf(key) == i) {
      return absl::AlreadyExistsError(
          absl::StrFormat("the keyring holds key %s already", FormatKeyId(key.id())));
    }
    return absl::InvalidArgumentError(
        absl::StrFormat("the keyring holds a different key with the same key id %s; "
                        "generate another key",
                        FormatKeyId(key.id())));
  }
  if (count_ == keys_.size()) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("the keyring holds %d keys, its limit; remove one first", keys_.size()));
  }
  std::copy_n(key.data(), Key::kBytes, keys_[count_].begin());
  ids_[count_] = key.id();
  ++count_;
  return absl::OkStatus();
}

absl::Status Keyring::UsePrimary(KeyId id) {
  absl::MutexLock lock(&mu_);
  return UsePrimaryAt(IndexOf(id), id);
}

absl::Status Keyring::UsePrimary(const Key& key) {
  absl::MutexLock lock(&mu_);
  return UsePrimaryAt(IndexOf(key), key.id());
}

absl::Status Keyring::UsePrimaryAt(int index, KeyId id) {
  if (index < 0) {
    return absl::NotFoundError(absl::StrFormat(
        "the keyring does not hold key %s; add it before making it primary", FormatKeyId(id)));
  }
  primary_ = static_cast<std::size_t>(index);
  return absl::OkStatus();
}

absl::Status Keyring::RemoveKey(KeyId id) {
  absl::MutexLock lock(&mu_);
  return RemoveAt(IndexOf(id), id);
}

absl::Status Keyring::RemoveKey(const Key& key) {
  absl::MutexLock lock(&mu_);
  return RemoveAt(IndexOf(key), key.id());
}

absl::Status Keyring::RemoveAt(int index, KeyId id) {
  if (index < 0) {
    return absl::NotFoundError(
        absl::StrFormat("the keyring does not hold key %s", FormatKeyId(id)));
  }
  const auto slot = static_cast<std::size_t>(index);
  if (slot == primary_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "key %s is the primary; make another key primary before removing it", FormatKeyId(id)));
  }
  // Shift the later keys down so key_ids() keeps the order of addition; then the last slot,
  // now a stale copy, is wiped.
  for (std::size_t i = slot; i + 1 < count_; ++i) {
    keys_[i] = keys_[i + 1];
    ids_[i] = ids_[i + 1];
  }
  --count_;
  sodium_memzero(keys_[count_].data(), Key::kBytes);
  ids_[count_] = 0;
  if (primary_ > slot) --primary_;
  LM_CHECK(primary_ < count_);
  return absl::OkStatus();
}

KeyId Keyring::primary_id() const {
  absl::ReaderMutexLock lock(&mu_);
  return ids_[primary_];
}

std::vector<KeyId> Keyring::key_ids() const {
  absl::ReaderMutexLock lock(&mu_);
  return std::vector<KeyId>(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(count_));
}

bool Keyring::Contains(KeyId id) const {
  absl::ReaderMutexLock lock(&mu_);
  return IndexOf(id) >= 0;
}

std::size_t Keyring::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return count_;
}

void Keyring::WithPrimaryKey(absl::FunctionRef<void(KeyId id, const unsigned char* key)> fn) const {
  absl::ReaderMutexLock lock(&mu_);
  fn(ids_[primary_], keys_[primary_].data());
}

bool Keyring::WithKey(KeyId id, absl::FunctionRef<void(const unsigned char* key)> fn) const {
  absl::ReaderMutexLock lock(&mu_);
  const int i = IndexOf(id);
  if (i < 0) return false;
  fn(keys_[static_cast<std::size_t>(i)].data());
  return true;
}

int Keyring::IndexOf(KeyId id) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (ids_[i] == id) return static_cast<int>(i);
  }
  return -1;
}

int Keyring::IndexOf(const Key& key) const {
  const int i = IndexOf(key.id());
  if (i < 0) return -1;
  return sodium_memcmp(keys_[static_cast<std::size_t>(i)].data(), key.data(), Key::kBytes) == 0
             ? i
             : -1;
}

}  // namespace lockmesh::crypto
