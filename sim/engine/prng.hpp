// SPDX-License-Identifier: GPL-2.0-only
// The project's own seeded PRNG and distributions.
//
// Owns: xoshiro256** seeded through splitmix64, and integer/real distributions whose output is
// defined here (std:: distributions differ between standard libraries, which would break
// byte-identical traces across machines).
// Invariant: the sequence is a pure function of the seed.
#pragma once

#include <cstdint>

namespace diosim::engine {

class Prng {
public:
  explicit Prng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : state_)
      s = splitmix64(x);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound) without modulo bias (Lemire's multiply-shift with rejection).
  uint64_t below(uint64_t bound) {
    if (bound <= 1) return 0;
    for (;;) {
      const unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
      const uint64_t low = static_cast<uint64_t>(m);
      if (low >= bound || low >= (-bound) % bound) return static_cast<uint64_t>(m >> 64);
    }
  }

  // Uniform in [lo, hi], both inclusive.
  uint64_t uniform(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

  // Uniform in [0, 1) with 53 bits.
  double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  bool chance(double probability) { return unit() < probability; }

  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4]{};
};

} // namespace diosim::engine
