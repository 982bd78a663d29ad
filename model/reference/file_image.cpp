// SPDX-License-Identifier: GPL-2.0-only
// FileImage (reference.hpp): a file's bytes as sorted, disjoint pieces — runs of one value or
// borrowed / owned bytes — with holes reading as zero. Invariants: pieces are sorted by offset,
// never overlap, never have len 0, and end at or below `size`; so every walk is a merge of two
// sorted lists and costs pieces plus the bytes of byte pieces it compares, never the offsets.
#include "model/reference/reference.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::model {

void FileImage::add_fill(uint64_t offset, uint64_t len, uint8_t value) {
  if (!len || value == 0) return; // a zero run reads like a hole
  if (!pieces.empty()) {
    Piece& last = pieces.back();
    if (!last.bytes && last.fill == value && last.offset + last.len == offset) {
      last.len += len;
      return;
    }
  }
  pieces.push_back({offset, len, nullptr, value, nullptr});
}

void FileImage::add_bytes(uint64_t offset, uint64_t len, const uint8_t* bytes,
                          std::shared_ptr<const void> keep) {
  if (!len) return;
  if (!pieces.empty()) {
    Piece& last = pieces.back();
    // Bytes that continue the previous piece's memory join it (consecutive bytes of one chunk).
    if (last.bytes && last.offset + last.len == offset && last.bytes + last.len == bytes &&
        last.keep == keep) {
      last.len += len;
      return;
    }
  }
  pieces.push_back({offset, len, bytes, 0, std::move(keep)});
}

void FileImage::add_copy(uint64_t offset, const std::vector<uint8_t>& bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(bytes);
  add_bytes(offset, owned->size(), owned->data(), owned);
}

FileImage FileImage::of(const std::vector<uint8_t>& bytes) {
  FileImage f;
  f.size = bytes.size();
  f.add_copy(0, bytes);
  return f;
}

void FileImage::put(uint64_t offset, const std::vector<uint8_t>& bytes) {
  const uint64_t end = offset + bytes.size();
  std::vector<Piece> out;
  auto keep_part = [&](const Piece& p, uint64_t b, uint64_t e) { // p's bytes [b, e)
    if (b >= e) return;
    Piece q = p;
    q.offset = b;
    q.len = e - b;
    if (q.bytes) q.bytes += b - p.offset;
    out.push_back(std::move(q));
  };
  bool placed = false;
  auto place = [&] {
    auto owned = std::make_shared<const std::vector<uint8_t>>(bytes);
    if (!bytes.empty()) out.push_back({offset, bytes.size(), owned->data(), 0, owned});
    placed = true;
  };
  for (const Piece& p : pieces) {
    if (p.offset + p.len <= offset) {
      out.push_back(p);
      continue;
    }
    if (!placed && p.offset >= offset) place();
    keep_part(p, p.offset, std::min(p.offset + p.len, offset));
    if (!placed) place();
    keep_part(p, std::max(p.offset, end), p.offset + p.len);
  }
  if (!placed) place();
  pieces = std::move(out);
}

std::vector<uint8_t> FileImage::read(uint64_t offset, uint64_t len) const {
  std::vector<uint8_t> out(len, 0);
  const uint64_t end = offset + len;
  auto it = std::upper_bound(pieces.begin(), pieces.end(), offset,
                             [](uint64_t off, const Piece& p) { return off < p.offset; });
  if (it != pieces.begin()) --it;
  for (; it != pieces.end() && it->offset < end; ++it) {
    const uint64_t b = std::max(offset, it->offset), e = std::min(end, it->offset + it->len);
    if (b >= e) continue;
    if (it->bytes)
      std::memcpy(out.data() + (b - offset), it->bytes + (b - it->offset), e - b);
    else
      std::memset(out.data() + (b - offset), it->fill, e - b);
  }
  return out;
}

uint64_t FileImage::byte_memory() const {
  uint64_t n = 0;
  for (const Piece& p : pieces)
    if (p.bytes) n += p.len;
  return n;
}

bool FileImage::operator==(const FileImage& o) const {
  return size == o.size && first_difference(*this, o, 0, size) == UINT64_MAX;
}

namespace {

// Walks an image from an offset in segments of one kind: bytes, or a run of one value (a piece
// of one value, or a hole reading as zero).
class Cursor {
public:
  Cursor(const FileImage& f, uint64_t from) : f_(f), pos_(from) {
    it_ = std::upper_bound(f.pieces.begin(), f.pieces.end(), from,
                           [](uint64_t off, const FileImage::Piece& p) { return off < p.offset; });
    if (it_ != f.pieces.begin() && std::prev(it_)->offset + std::prev(it_)->len > from) --it_;
  }
  // The segment at pos: its end (bounded by `limit`), and its bytes or its value.
  uint64_t segment(uint64_t limit, const uint8_t*& bytes, uint8_t& fill) const {
    if (it_ == f_.pieces.end() || it_->offset > pos_) { // a hole
      bytes = nullptr;
      fill = 0;
      return std::min(limit, it_ == f_.pieces.end() ? limit : it_->offset);
    }
    bytes = it_->bytes ? it_->bytes + (pos_ - it_->offset) : nullptr;
    fill = it_->fill;
    return std::min(limit, it_->offset + it_->len);
  }
  void advance_to(uint64_t pos) {
    pos_ = pos;
    while (it_ != f_.pieces.end() && it_->offset + it_->len <= pos_)
      ++it_;
  }

private:
  const FileImage& f_;
  std::vector<FileImage::Piece>::const_iterator it_;
  uint64_t pos_;
};

// The first index < n where the two segments differ, or n.
uint64_t segment_difference(const uint8_t* a, uint8_t fa, const uint8_t* b, uint8_t fb,
                            uint64_t n) {
  if (!a && !b) return fa == fb ? n : 0;
  if (a && b && std::memcmp(a, b, n) == 0) return n;
  if (!a || !b) { // bytes against one value: equal when they all hold it (memcmp, not a loop)
    const uint8_t* p = a ? a : b;
    const uint8_t v = a ? fb : fa;
    if (n && p[0] == v && std::memcmp(p, p + 1, n - 1) == 0) return n;
  }
  for (uint64_t i = 0; i < n; ++i)
    if ((a ? a[i] : fa) != (b ? b[i] : fb)) return i;
  return n;
}

} // namespace

uint64_t first_difference(const FileImage& a, const FileImage& b, uint64_t from, uint64_t n) {
  Cursor ca(a, from), cb(b, from);
  for (uint64_t pos = from; pos < n;) {
    const uint8_t *pa = nullptr, *pb = nullptr;
    uint8_t fa = 0, fb = 0;
    const uint64_t end = std::min(ca.segment(n, pa, fa), cb.segment(n, pb, fb));
    const uint64_t at = segment_difference(pa, fa, pb, fb, end - pos);
    if (at < end - pos) return pos + at;
    pos = end;
    ca.advance_to(pos);
    cb.advance_to(pos);
  }
  return UINT64_MAX;
}

} // namespace diosim::model
