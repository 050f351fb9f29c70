// File: keyring.h
//
// The keys a node seals and opens datagrams with: one primary key, which seals everything the
// node sends, and up to core::kKeyringKeysMax - 1 extra keys that are only accepted for
// opening. The extra keys are what lets a running cluster rotate its key without a gap:
//
//   1. AddKey(new) on every node: everyone can open the new key; all still seal with the old.
//   2. UsePrimary(new) on every node: senders switch to the new key; receivers that have not
//      switched yet still open it (step 1), and switched receivers still open the old one.
//   3. RemoveKey(old) on every node, once step 2 has reached every node and the datagrams
//      sealed before it have drained (a datagram lives milliseconds; waiting a few gossip
//      periods is plenty).
//
// Doing step 2 anywhere before step 1 is finished everywhere loses datagrams: a node without
// the new key refuses it (kNotFound from Open, counted and dropped). The protocol survives
// that too, but the order above loses nothing.
//
// Example:
//
//   absl::StatusOr<Key> key = ParseKey(options.cluster_key);
//   if (!key.ok()) return key.status();
//   absl::StatusOr<std::unique_ptr<Keyring>> keyring = Keyring::Create({*key});
//   if (!keyring.ok()) return keyring.status();
//   ...
//   // Rotation, driven by an operator across all nodes:
//   (*keyring)->AddKey(next);             // step 1, everywhere
//   (*keyring)->UsePrimary(next.id());    // step 2, everywhere
//   (*keyring)->RemoveKey(old.id());      // step 3, everywhere
//
// Keys live in a fixed array inside the keyring, so no copy of a key is ever left behind by a
// reallocation; each slot is wiped with sodium_memzero when its key is removed and all of them
// when the keyring is destroyed.
//
// Thread safety: internally synchronized (an absl::Mutex), so the runtime's I/O threads may
// seal and open while an API call on another thread rotates keys. Sealing and opening take
// the lock shared and run in parallel; only the rare rotation calls take it exclusively.
// Every call sees the keyring before or after a concurrent change, never halfway.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "lib/core/limits.h"
#include "lib/crypto/key.h"

namespace lockmesh::crypto {

class Keyring {
 public:
  // A keyring of `keys`, the first of them primary, the others accepted for opening.
  // InvalidArgument if `keys` is empty, has more than core::kKeyringKeysMax keys, holds the
  // same key twice, or holds two different keys with the same key id (probability 2^-32 per
  // pair: generate another key). kInternal if libsodium cannot be initialized; so a keyring
  // that exists guarantees that Seal and Open can run.
  // Returned by pointer because the keyring owns a mutex and cannot move.
  static absl::StatusOr<std::unique_ptr<Keyring>> Create(absl::Span<const Key> keys);

  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;
  // Wipes every key.
  ~Keyring();

  // Accepts `key` for opening; the primary does not change (rotation step 1).
  // AlreadyExists if the keyring holds this key already (a retried step: nothing to do).
  // InvalidArgument if it holds a different key with the same id. ResourceExhausted if it
  // holds core::kKeyringKeysMax keys: remove one first.
  absl::Status AddKey(const Key& key);

  // Makes the key with this id (or this very key) the one that seals from now on (rotation
  // step 2); the previous primary stays accepted for opening. OK if it is primary already.
  // NotFound if the keyring does not hold it: AddKey first.
  absl::Status UsePrimary(KeyId id);
  absl::Status UsePrimary(const Key& key);

  // Stops accepting the key with this id (or this very key) and wipes it (rotation step 3).
  // NotFound if the keyring does not hold it. FailedPrecondition if it is the primary: a
  // keyring always has a primary, so make another key primary first.
  absl::Status RemoveKey(KeyId id);
  absl::Status RemoveKey(const Key& key);

  // The id of the key that seals.
  KeyId primary_id() const;
  // The ids of all keys held, primary included, in the order they were added.
  std::vector<KeyId> key_ids() const;
  bool Contains(KeyId id) const;
  std::size_t size() const;

  // For lib/crypto/sealed_frame.cc. Each runs `fn` under the shared lock with the bytes
  // (Key::kBytes of them) of the primary key / of the key with `id`; the pointer is valid
  // only during the call, and `fn` must not call back into this keyring.
  void WithPrimaryKey(absl::FunctionRef<void(KeyId id, const unsigned char* key)> fn) const;
  // False, without calling `fn`, if the keyring holds no key with `id`.
  bool WithKey(KeyId id, absl::FunctionRef<void(const unsigned char* key)> fn) const;

 private:
  Keyring() = default;

  // The slot of the key with `id`, or -1.
  int IndexOf(KeyId id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The slot of exactly this key (same id and same bytes), or -1.
  int IndexOf(const Key& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status UsePrimaryAt(int index, KeyId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RemoveAt(int index, KeyId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // Slots [0, count_) hold keys; the others are zero.
  std::array<Key::Bytes, core::kKeyringKeysMax> keys_ ABSL_GUARDED_BY(mu_) = {};
  std::array<KeyId, core::kKeyringKeysMax> ids_ ABSL_GUARDED_BY(mu_) = {};
  std::size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t primary_ ABSL_GUARDED_BY(mu_) = 0;  // < count_ whenever count_ > 0
};

}  // namespace lockmesh::crypto
