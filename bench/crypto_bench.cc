// Sealing and opening one datagram (lib/crypto/sealed_frame.h). A plain copy of the same
// payload is the baseline, so the ratio says what the AEAD costs per datagram; the bare
// libsodium calls (encryption with a fixed nonce, drawing one nonce) split that cost between
// the cipher, the randomness and the framing. The forgery and unknown-key cases measure what
// a flood of hostile datagrams costs a receiver.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstring>
#include <memory>
#include <string>

#include "lib/core/limits.h"
#include "lib/crypto/sealed_frame.h"

namespace lockmesh::crypto {
namespace {

constexpr char kCluster[] = "prod-eu";

std::unique_ptr<Keyring> TwoKeyring() {
  // Two keys, as during a rotation: the lookup of the sealing key is part of the cost.
  return std::move(*Keyring::Create({GenerateKey(), GenerateKey()}));
}

std::string Payload(benchmark::State& state) {
  return std::string(static_cast<std::size_t>(state.range(0)), 'p');
}

void BM_Baseline_Memcpy(benchmark::State& state) {
  const std::string payload = Payload(state);
  char out[core::kDatagramBytesMax];
  for (auto _ : state) {
    std::memcpy(out, payload.data(), payload.size());
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}
BENCHMARK(BM_Baseline_Memcpy)->Arg(100)->Arg(core::kSealedPlaintextBytesMax);

void BM_Baseline_BareAeadEncrypt(benchmark::State& state) {
  const std::string payload = Payload(state);
  const Key key = GenerateKey();
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {};
  unsigned char out[core::kDatagramBytesMax];
  unsigned long long out_bytes = 0;
  for (auto _ : state) {
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, &out_bytes, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
        reinterpret_cast<const unsigned char*>(kCluster), sizeof kCluster - 1, nullptr, nonce,
        key.data());
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Baseline_BareAeadEncrypt)->Arg(100)->Arg(core::kSealedPlaintextBytesMax);

void BM_Baseline_RandomNonce(benchmark::State& state) {
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  for (auto _ : state) {
    randombytes_buf(nonce, sizeof nonce);
    benchmark::DoNotOptimize(nonce);
  }
}
BENCHMARK(BM_Baseline_RandomNonce);

void BM_Seal(benchmark::State& state) {
  const std::unique_ptr<Keyring> keyring = TwoKeyring();
  const std::string payload = Payload(state);
  for (auto _ : state) benchmark::DoNotOptimize(Seal(*keyring, kCluster, payload));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}
BENCHMARK(BM_Seal)->Arg(100)->Arg(core::kSealedPlaintextBytesMax);

void BM_Open(benchmark::State& state) {
  const std::unique_ptr<Keyring> keyring = TwoKeyring();
  const std::string sealed = *Seal(*keyring, kCluster, Payload(state));
  for (auto _ : state) benchmark::DoNotOptimize(Open(*keyring, kCluster, sealed));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Open)->Arg(100)->Arg(core::kSealedPlaintextBytesMax);

// A forged datagram under a known key id: one MAC check, then refused.
void BM_OpenForged(benchmark::State& state) {
  const std::unique_ptr<Keyring> keyring = TwoKeyring();
  std::string sealed = *Seal(*keyring, kCluster, Payload(state));
  sealed.back() ^= 1;
  for (auto _ : state) benchmark::DoNotOptimize(Open(*keyring, kCluster, sealed));
}
BENCHMARK(BM_OpenForged)->Arg(100);

// A datagram under a key this node does not hold: refused before any cryptography.
void BM_OpenUnknownKeyId(benchmark::State& state) {
  const std::unique_ptr<Keyring> keyring = TwoKeyring();
  const std::unique_ptr<Keyring> stranger = TwoKeyring();
  const std::string sealed = *Seal(*stranger, kCluster, Payload(state));
  for (auto _ : state) benchmark::DoNotOptimize(Open(*keyring, kCluster, sealed));
}
BENCHMARK(BM_OpenUnknownKeyId)->Arg(100);

}  // namespace
}  // namespace lockmesh::crypto
