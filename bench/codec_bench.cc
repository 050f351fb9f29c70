// The codec on a typical acquire envelope; a plain copy of the same bytes is
// the baseline, so the ratio says what Cap'n Proto costs over a memcpy. Then
// batching (lib/wire/batch.h) of ten such envelopes into one datagram and back.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "lib/wire/batch.h"
#include "lib/wire/codec.h"

namespace lockmesh::wire {
namespace {

core::Envelope Typical() {
  return core::Envelope{0x1234567890abcdefULL,
                        3,
                        0xfedcba0987654321ULL,
                        uint64_t{1'700'000'000'000} << 16,
                        0x5555aaaa5555aaaaULL,
                        core::AcquireMsg{"orders/42", uint64_t{1'700'000'000'000} << 16,
                                         core::Owner{0x1234567890abcdefULL, 3, 17}, 5'000'000}};
}

void BM_Baseline_CopyBytes(benchmark::State& state) {
  const std::string bytes = *Encode(Typical());
  char out[2048];
  for (auto _ : state) {
    std::memcpy(out, bytes.data(), bytes.size());
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_Baseline_CopyBytes);

void BM_EncodeAcquire(benchmark::State& state) {
  const core::Envelope env = Typical();
  for (auto _ : state) benchmark::DoNotOptimize(Encode(env));
  state.counters["bytes"] = static_cast<double>(Encode(env)->size());
}
BENCHMARK(BM_EncodeAcquire);

void BM_DecodeAcquire(benchmark::State& state) {
  const std::string bytes = *Encode(Typical());
  for (auto _ : state) benchmark::DoNotOptimize(Decode(bytes));
}
BENCHMARK(BM_DecodeAcquire);

void BM_DecodeGarbage(benchmark::State& state) {
  std::string bytes = *Encode(Typical());
  bytes[5] ^= 0x5a;
  bytes.resize(bytes.size() - 3);
  for (auto _ : state) benchmark::DoNotOptimize(Decode(bytes));
}
BENCHMARK(BM_DecodeGarbage);

// Ten typical envelopes to one peer, already encoded (resources orders/42..orders/51).
std::vector<std::string> TenEncoded() {
  std::vector<std::string> out;
  for (int i = 0; i < 10; ++i) {
    core::Envelope env = Typical();
    std::get<core::AcquireMsg>(env.body).resource = "orders/" + std::to_string(42 + i);
    out.push_back(*Encode(env));
  }
  return out;
}

// Add copies each envelope in (as a caller that keeps its own would), then Finish.
void BM_BatchFinish10(benchmark::State& state) {
  const std::vector<std::string> envelopes = TenEncoded();
  BatchBuilder builder;
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& e : envelopes) builder.Add(e);
    bytes = builder.bytes();
    benchmark::DoNotOptimize(builder.Finish());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_BatchFinish10);

void BM_DecodeBatch10(benchmark::State& state) {
  BatchBuilder builder;
  for (const std::string& e : TenEncoded()) builder.Add(e);
  const std::string batch = builder.Finish();
  for (auto _ : state) benchmark::DoNotOptimize(DecodeBatch(batch));
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_DecodeBatch10);

}  // namespace
}  // namespace lockmesh::wire
