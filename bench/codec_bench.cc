// The codec on a typical acquire envelope; a plain copy of the same bytes is
// the baseline, so the ratio says what Cap'n Proto costs over a memcpy.
#include <benchmark/benchmark.h>

#include <cstring>

#include "lib/wire/codec.h"

namespace lockmesh::wire {
namespace {

core::Envelope Typical() {
  return core::Envelope{0x1234567890abcdefULL, 3, 0xfedcba0987654321ULL,
                        uint64_t{1'700'000'000'000} << 16, 0x5555aaaa5555aaaaULL,
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

}  // namespace
}  // namespace lockmesh::wire
