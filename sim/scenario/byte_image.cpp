// SPDX-License-Identifier: GPL-2.0-only
#include "sim/scenario/byte_image.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::scenario {

namespace {

// True when the n bytes at p all equal p[0].
bool one_value(const uint8_t* p, uint64_t n) {
  return n == 0 || (p[0] == p[n - 1] && std::memcmp(p, p + 1, n - 1) == 0);
}

// Polynomial hash over 8-byte words at fixed offsets (0, 8, 16, ...) modulo 2^61 - 1: a run of
// W equal words folds in O(log W) as a geometric series, so runs cost no per-byte work, and
// since words sit at fixed offsets the result depends on the bytes only.
class Digest {
public:
  void bytes(const uint8_t* p, uint64_t n) {
    for (; n && pending_n_; --n)
      push(*p++);
    for (; n >= 8; n -= 8, p += 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      word(w, 1);
    }
    for (; n; --n)
      push(*p++);
  }
  void run(uint8_t v, uint64_t n) {
    for (; n && pending_n_; --n)
      push(v);
    word(0x0101010101010101ull * v, n / 8);
    for (n %= 8; n; --n)
      push(v);
  }
  uint64_t finish() {
    if (pending_n_) {
      word(pending_ ^ (uint64_t{pending_n_} << 56) ^ 0x5a, 1);
      size_ -= 8; // push() counted these bytes already
    }
    return mul(h_, kX) ^ size_;
  }

private:
  static constexpr uint64_t kP = (uint64_t{1} << 61) - 1, kX = 0x1f3d5b79a2c4e6f1ull % kP;
  static uint64_t mul(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    const uint64_t lo = static_cast<uint64_t>(r) & kP, hi = static_cast<uint64_t>(r >> 61);
    uint64_t s = lo + hi; // < 2P + 1
    if (s >= kP) s -= kP;
    return s >= kP ? s - kP : s;
  }
  static uint64_t add(uint64_t a, uint64_t b) {
    const uint64_t s = a + b;
    return s >= kP ? s - kP : s;
  }
  void push(uint8_t b) {
    pending_ |= uint64_t{b} << (8 * pending_n_);
    if (++pending_n_ == 8) {
      const uint64_t w = pending_;
      pending_ = 0, pending_n_ = 0;
      word(w, 1);
      size_ -= 8; // word() counted them again
    }
    ++size_;
  }
  // h = h * X^count + (w' + 1) * (1 + X + ... + X^(count-1)), w' = w mod P.
  void word(uint64_t w, uint64_t count) {
    size_ += 8 * count;
    const uint64_t c = add(w % kP, 1);
    uint64_t pow = 1, sum = 0;    // X^k and 1 + ... + X^(k-1) for the bits of count seen
    uint64_t bpow = kX, bsum = 1; // X^b and 1 + ... + X^(b-1), b = the current bit's weight
    for (uint64_t k = count; k; k >>= 1) {
      if (k & 1) {
        sum = add(mul(sum, bpow), bsum);
        pow = mul(pow, bpow);
      }
      bsum = add(bsum, mul(bsum, bpow));
      bpow = mul(bpow, bpow);
    }
    h_ = add(mul(h_, pow), mul(c, sum));
  }

  uint64_t h_ = 0, pending_ = 0, size_ = 0;
  unsigned pending_n_ = 0;
};

} // namespace

ByteImage ByteImage::of(const std::vector<uint8_t>& bytes) {
  ByteImage b;
  b.append(bytes.data(), bytes.size());
  return b;
}

void ByteImage::append_fill(uint64_t n, uint8_t value) {
  if (!n) return;
  size_ += n;
  if (!pieces_.empty() && !pieces_.back().stored && pieces_.back().fill == value) {
    pieces_.back().len += n;
    return;
  }
  pieces_.push_back({n, 0, value, false});
}

void ByteImage::append(const uint8_t* bytes, uint64_t n) {
  if (!n) return;
  if (one_value(bytes, n)) return append_fill(n, bytes[0]);
  if (!store_)
    store_ = std::make_shared<std::vector<uint8_t>>();
  else if (store_.use_count() > 1) // shared with a copy: its bytes must not move or change
    store_ = std::make_shared<std::vector<uint8_t>>(*store_);
  const uint64_t at = store_->size();
  store_->insert(store_->end(), bytes, bytes + n);
  size_ += n;
  if (!pieces_.empty() && pieces_.back().stored) {
    pieces_.back().len += n; // stored pieces are consecutive in the store
    return;
  }
  pieces_.push_back({n, at, 0, true});
}

void ByteImage::visit(const Visitor& fn) const {
  for (const Piece& p : pieces_)
    fn(p.len, p.stored ? bytes_of(p) : nullptr, p.fill);
}

uint8_t ByteImage::at(uint64_t offset) const {
  return read(offset, 1).at(0);
}

std::vector<uint8_t> ByteImage::read(uint64_t offset, uint64_t len) const {
  std::vector<uint8_t> out;
  if (offset >= size_) return out;
  len = std::min(len, size_ - offset);
  out.reserve(len);
  uint64_t pos = 0;
  for (const Piece& p : pieces_) {
    if (out.size() == len) break;
    if (pos + p.len > offset) {
      const uint64_t from = std::max(offset, pos) - pos;
      const uint64_t n = std::min(p.len - from, len - out.size());
      if (p.stored)
        out.insert(out.end(), bytes_of(p) + from, bytes_of(p) + from + n);
      else
        out.insert(out.end(), n, p.fill);
    }
    pos += p.len;
  }
  return out;
}

uint64_t ByteImage::digest() const {
  Digest d;
  for (const Piece& p : pieces_) {
    if (p.stored)
      d.bytes(bytes_of(p), p.len);
    else
      d.run(p.fill, p.len);
  }
  return d.finish();
}

bool ByteImage::operator==(const ByteImage& o) const {
  if (size_ != o.size_) return false;
  // A merge of the two piece lists: runs against runs compare values, bytes compare bytes.
  size_t i = 0, j = 0;
  uint64_t in_i = 0, in_j = 0;
  while (i < pieces_.size() && j < o.pieces_.size()) {
    const Piece &a = pieces_[i], &b = o.pieces_[j];
    const uint64_t n = std::min(a.len - in_i, b.len - in_j);
    const uint8_t* pa = a.stored ? bytes_of(a) + in_i : nullptr;
    const uint8_t* pb = b.stored ? o.bytes_of(b) + in_j : nullptr;
    if (pa && pb) {
      if (std::memcmp(pa, pb, n) != 0) return false;
    } else if (pa || pb) {
      const uint8_t* p = pa ? pa : pb;
      const uint8_t v = pa ? b.fill : a.fill;
      if (p[0] != v || !one_value(p, n)) return false;
    } else if (a.fill != b.fill) {
      return false;
    }
    in_i += n, in_j += n;
    if (in_i == a.len) ++i, in_i = 0;
    if (in_j == b.len) ++j, in_j = 0;
  }
  return true;
}

bool ByteImage::operator==(const std::vector<uint8_t>& bytes) const {
  if (size_ != bytes.size()) return false;
  uint64_t pos = 0;
  for (const Piece& p : pieces_) {
    const uint8_t* q = bytes.data() + pos;
    if (p.stored ? std::memcmp(bytes_of(p), q, p.len) != 0
                 : (q[0] != p.fill || !one_value(q, p.len)))
      return false;
    pos += p.len;
  }
  return true;
}

} // namespace diosim::scenario
