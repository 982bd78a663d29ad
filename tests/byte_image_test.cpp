// SPDX-License-Identifier: GPL-2.0-only
// ByteImage (sim/scenario/byte_image.hpp): runs stay runs, equality and the digest depend on the
// bytes only (never on how they are cut into pieces), copies share stored bytes.
#include "sim/scenario/byte_image.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using diosim::scenario::ByteImage;

namespace {

std::vector<uint8_t> sample() {
  std::vector<uint8_t> v(3 * 4096 + 77, 'W');
  for (size_t i = 4096; i < 8192; ++i)
    v[i] = static_cast<uint8_t>(i * 13);
  v.back() = 'x';
  return v;
}

// The same bytes appended in pieces of `cut` bytes.
ByteImage cut_into(const std::vector<uint8_t>& v, size_t cut) {
  ByteImage b;
  for (size_t at = 0; at < v.size(); at += cut)
    b.append(v.data() + at, std::min(cut, v.size() - at));
  return b;
}

} // namespace

TEST_CASE("byte image: a fill is one run and holds no bytes") {
  ByteImage b;
  const std::vector<uint8_t> page(4096, 'W');
  for (int i = 0; i < 256; ++i)
    b.append(page.data(), page.size());
  b.append_fill(100, 'W');
  CHECK(b.size() == 256 * 4096 + 100);
  CHECK(b.pieces().size() == 1);
  CHECK(b.stored_bytes() == 0);
  CHECK(b.at(12345) == 'W');
  CHECK(b == std::vector<uint8_t>(256 * 4096 + 100, 'W'));
  CHECK_FALSE(b == std::vector<uint8_t>(256 * 4096 + 99, 'W'));
}

TEST_CASE("byte image: equality, digest and reads follow the bytes, not the cuts") {
  const std::vector<uint8_t> v = sample();
  const ByteImage whole = ByteImage::of(v);
  CHECK(whole.pieces().size() == 1);
  CHECK(whole.stored_bytes() == v.size());
  for (size_t cut : {1, 7, 8, 512, 4096, 5000}) {
    CAPTURE(cut);
    const ByteImage b = cut_into(v, cut);
    CHECK(b == v);
    CHECK(b == whole);
    CHECK(whole == b);
    CHECK(b.digest() == whole.digest());
    CHECK(b.expand() == v);
    CHECK(b.read(4090, 20) == std::vector<uint8_t>(v.begin() + 4090, v.begin() + 4110));
    CHECK(b.at(v.size() - 1) == 'x');
  }
  CHECK(cut_into(v, 4096).stored_bytes() == 4096 + 77); // the filled pages are runs
  std::vector<uint8_t> w = v;
  w[9000] ^= 1; // one byte differs inside a run
  CHECK_FALSE(ByteImage::of(w) == whole);
  CHECK_FALSE(cut_into(w, 4096) == cut_into(v, 4096));
  CHECK(ByteImage::of(w).digest() != whole.digest());
  std::vector<uint8_t> longer = v;
  longer.push_back('x');
  CHECK(ByteImage::of(longer).digest() != whole.digest());
  CHECK(ByteImage().digest() != ByteImage::of({0}).digest());
}

TEST_CASE("byte image: a copy shares stored bytes and never sees later appends") {
  ByteImage a = ByteImage::of({1, 2, 3});
  const ByteImage copy = a;
  CHECK(copy.keep() == a.keep());
  a.append(std::vector<uint8_t>{4, 5}.data(), 2);
  CHECK(copy.expand() == std::vector<uint8_t>{1, 2, 3});
  CHECK(a.expand() == std::vector<uint8_t>{1, 2, 3, 4, 5});
}
