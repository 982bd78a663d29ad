// SPDX-License-Identifier: GPL-2.0-only
// ByteImage: a byte string kept as pieces, each either a run of one value or stored bytes, so a
// snapshot of a filled 1 GiB buffer costs a piece, not a GiB. The world records what an
// operation's iovecs held when it finished in this form (world::OpOutcome::data) and the judge
// (model/reference, model/check/expectations) compares it piece by piece without expanding it.
// It lives beside ByteRuns because both the world and the reference model speak it, and the
// reference model may include nothing of sim/ but sim/scenario/.
//
// Invariants:
//   1. Pieces are in order, never empty, and cover [0, size()) exactly.
//   2. Stored bytes are shared between copies and never change once a copy exists (an append
//      to a shared image copies the stored bytes first), so a copy is cheap and a borrowed
//      pointer stays valid while any copy lives.
//   3. Equality, digest() and every read depend on the bytes only, never on how they were cut
//      into pieces.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace diosim::scenario {

class ByteImage {
public:
  struct Piece {
    uint64_t len = 0;
    uint64_t at = 0;     // offset of the piece's bytes in the store; unused for a run
    uint8_t fill = 0;    // the value of every byte of a run
    bool stored = false; // false: a run of `fill`
  };

  ByteImage() = default;
  static ByteImage of(const std::vector<uint8_t>& bytes); // stored as appended (runs found)

  // Appends n bytes: a whole append of one value becomes a run, anything else is stored.
  void append(const uint8_t* bytes, uint64_t n);
  void append_fill(uint64_t n, uint8_t value);

  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  // Bytes of storage held (runs hold none): what the snapshot costs beyond its pieces.
  uint64_t stored_bytes() const { return store_ ? store_->size() : 0; }
  // The stored bytes of a stored piece, and what keeps them alive.
  const uint8_t* bytes_of(const Piece& p) const { return store_->data() + p.at; }
  std::shared_ptr<const void> keep() const { return store_; }

  // fn(n, bytes, fill) for each piece in order, `bytes` null for a run of `fill`.
  using Visitor = std::function<void(uint64_t n, const uint8_t* bytes, uint8_t fill)>;
  void visit(const Visitor& fn) const;
  uint8_t at(uint64_t offset) const;                              // offset < size(); O(log pieces)
  std::vector<uint8_t> read(uint64_t offset, uint64_t len) const; // clipped to size()
  std::vector<uint8_t> expand() const { return read(0, size_); }  // messages and tests

  // A digest of the bytes alone (a polynomial hash, runs folded in O(log len)): equal bytes
  // digest equal however they are cut (model/check/session.cpp's outcome hash folds it).
  uint64_t digest() const;

  bool operator==(const ByteImage& o) const; // the same bytes
  bool operator==(const std::vector<uint8_t>& bytes) const;

private:
  std::shared_ptr<std::vector<uint8_t>> store_; // bytes of stored pieces, in piece order
  std::vector<Piece> pieces_;
  uint64_t size_ = 0;
};

} // namespace diosim::scenario
