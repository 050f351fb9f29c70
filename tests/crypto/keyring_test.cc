// Tests for lib/crypto/keyring.h: creation refuses empty, oversized and duplicate key sets;
// AddKey, UsePrimary and RemoveKey keep their contracts (idempotent add reported, the primary
// never removed, the bound enforced); and the three-step rotation between two nodes loses no
// datagram at any step, while doing it out of order does.
#include "lib/crypto/keyring.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/core/limits.h"
#include "lib/crypto/sealed_frame.h"

namespace lockmesh::crypto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kCluster[] = "test-cluster";

std::unique_ptr<Keyring> MustCreate(std::vector<Key> keys) {
  absl::StatusOr<std::unique_ptr<Keyring>> keyring = Keyring::Create(keys);
  EXPECT_TRUE(keyring.ok()) << keyring.status();
  return std::move(*keyring);
}

TEST(KeyringTest, CreateMakesTheFirstKeyPrimary) {
  const Key a = GenerateKey(), b = GenerateKey(), c = GenerateKey();
  std::unique_ptr<Keyring> keyring = MustCreate({a, b, c});
  EXPECT_EQ(keyring->primary_id(), a.id());
  EXPECT_THAT(keyring->key_ids(), ElementsAre(a.id(), b.id(), c.id()));
  EXPECT_EQ(keyring->size(), 3u);
  EXPECT_TRUE(keyring->Contains(b.id()));
  EXPECT_FALSE(keyring->Contains(GenerateKey().id()));
}

TEST(KeyringTest, CreateRefusesBadKeySets) {
  EXPECT_EQ(Keyring::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Keyring::Create({}).status().message(), HasSubstr("at least one key"));

  const Key a = GenerateKey(), b = GenerateKey();
  absl::StatusOr<std::unique_ptr<Keyring>> duplicate = Keyring::Create({a, b, a});
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(duplicate.status().message(), HasSubstr("keys #0 and #2 are the same key"));

  std::vector<Key> too_many;
  for (std::size_t i = 0; i <= core::kKeyringKeysMax; ++i) too_many.push_back(GenerateKey());
  EXPECT_EQ(Keyring::Create(too_many).status().code(), absl::StatusCode::kInvalidArgument);
  too_many.pop_back();
  EXPECT_TRUE(Keyring::Create(too_many).ok());
}

TEST(KeyringTest, AddKeyReportsDuplicatesAndTheBound) {
  const Key a = GenerateKey();
  std::unique_ptr<Keyring> keyring = MustCreate({a});
  EXPECT_EQ(keyring->AddKey(a).code(), absl::StatusCode::kAlreadyExists);
  const Key b = GenerateKey();
  EXPECT_TRUE(keyring->AddKey(b).ok());
  EXPECT_EQ(keyring->AddKey(b).code(), absl::StatusCode::kAlreadyExists);
  while (keyring->size() < core::kKeyringKeysMax) ASSERT_TRUE(keyring->AddKey(GenerateKey()).ok());
  absl::Status full = keyring->AddKey(GenerateKey());
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("remove one first"));
  EXPECT_EQ(keyring->primary_id(), a.id());  // adding never changes the primary
}

TEST(KeyringTest, UsePrimaryNeedsAKeyItHolds) {
  const Key a = GenerateKey(), b = GenerateKey(), stranger = GenerateKey();
  std::unique_ptr<Keyring> keyring = MustCreate({a, b});
  EXPECT_EQ(keyring->UsePrimary(stranger.id()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keyring->UsePrimary(stranger).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(keyring->primary_id(), a.id());
  EXPECT_TRUE(keyring->UsePrimary(b.id()).ok());
  EXPECT_EQ(keyring->primary_id(), b.id());
  EXPECT_TRUE(keyring->UsePrimary(b).ok());  // already primary: fine
  EXPECT_TRUE(keyring->UsePrimary(a).ok());
  EXPECT_EQ(keyring->primary_id(), a.id());
}

TEST(KeyringTest, RemoveKeyRefusesThePrimaryAndUnknownKeys) {
  const Key a = GenerateKey(), b = GenerateKey(), c = GenerateKey();
  std::unique_ptr<Keyring> keyring = MustCreate({a, b, c});
  absl::Status primary = keyring->RemoveKey(a.id());
  EXPECT_EQ(primary.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(primary.message(), HasSubstr("primary"));
  EXPECT_EQ(keyring->RemoveKey(GenerateKey().id()).code(), absl::StatusCode::kNotFound);

  EXPECT_TRUE(keyring->RemoveKey(b).ok());
  EXPECT_THAT(keyring->key_ids(), ElementsAre(a.id(), c.id()));
  EXPECT_EQ(keyring->RemoveKey(b.id()).code(), absl::StatusCode::kNotFound);

  // The primary keeps its identity when keys before it are removed.
  ASSERT_TRUE(keyring->UsePrimary(c.id()).ok());
  ASSERT_TRUE(keyring->RemoveKey(a.id()).ok());
  EXPECT_EQ(keyring->primary_id(), c.id());
  EXPECT_THAT(keyring->key_ids(), ElementsAre(c.id()));
  EXPECT_EQ(keyring->RemoveKey(c.id()).code(), absl::StatusCode::kFailedPrecondition);

  // A removed key's slot is reusable.
  EXPECT_TRUE(keyring->AddKey(a).ok());
  EXPECT_THAT(keyring->key_ids(), ElementsAre(c.id(), a.id()));
}

// Two nodes, each with its own keyring. Sends one datagram each way and expects both to open.
void ExpectBothWays(const Keyring& x, const Keyring& y, const std::string& step) {
  const std::string x_to_y = "from x at " + step, y_to_x = "from y at " + step;
  absl::StatusOr<std::string> at_y = Open(y, kCluster, *Seal(x, kCluster, x_to_y));
  absl::StatusOr<std::string> at_x = Open(x, kCluster, *Seal(y, kCluster, y_to_x));
  ASSERT_TRUE(at_y.ok()) << step << ": " << at_y.status();
  ASSERT_TRUE(at_x.ok()) << step << ": " << at_x.status();
  EXPECT_EQ(*at_y, x_to_y);
  EXPECT_EQ(*at_x, y_to_x);
}

TEST(KeyringTest, RotationInThreeStepsLosesNothing) {
  const Key old_key = GenerateKey(), new_key = GenerateKey();
  std::unique_ptr<Keyring> x = MustCreate({old_key});
  std::unique_ptr<Keyring> y = MustCreate({old_key});
  ExpectBothWays(*x, *y, "start");

  // Every change reaches x first, then y: the states in between are what a rolling change
  // across a cluster goes through.
  ASSERT_TRUE(x->AddKey(new_key).ok());
  ExpectBothWays(*x, *y, "1: x has the new key");
  ASSERT_TRUE(y->AddKey(new_key).ok());
  ExpectBothWays(*x, *y, "1: both have the new key");

  ASSERT_TRUE(x->UsePrimary(new_key.id()).ok());
  ExpectBothWays(*x, *y, "2: x seals with the new key");
  ASSERT_TRUE(y->UsePrimary(new_key.id()).ok());
  ExpectBothWays(*x, *y, "2: both seal with the new key");
  // A datagram sealed with the old key before step 2 and delivered late still opens.
  const std::string late = *Seal(*MustCreate({old_key}), kCluster, "late");
  EXPECT_TRUE(Open(*x, kCluster, late).ok());

  ASSERT_TRUE(x->RemoveKey(old_key.id()).ok());
  ExpectBothWays(*x, *y, "3: x dropped the old key");
  ASSERT_TRUE(y->RemoveKey(old_key.id()).ok());
  ExpectBothWays(*x, *y, "3: both dropped the old key");

  // The old key is gone: what it seals is refused as an unknown key, not as a forgery.
  EXPECT_EQ(Open(*y, kCluster, late).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(x->key_ids(), ElementsAre(new_key.id()));
}

TEST(KeyringTest, RotationOutOfOrderLosesDatagrams) {
  // Why step 1 must finish everywhere before step 2 starts anywhere.
  const Key old_key = GenerateKey(), new_key = GenerateKey();
  std::unique_ptr<Keyring> x = MustCreate({old_key});
  std::unique_ptr<Keyring> y = MustCreate({old_key});
  ASSERT_TRUE(x->AddKey(new_key).ok());
  ASSERT_TRUE(x->UsePrimary(new_key.id()).ok());
  EXPECT_EQ(Open(*y, kCluster, *Seal(*x, kCluster, "lost")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace lockmesh::crypto
