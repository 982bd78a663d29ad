// SPDX-License-Identifier: GPL-2.0-only
// User memory is a copy-on-write view of buffers built once (issue 7 part 1.1, issue 8 item 2):
// a page is made only when touched, shares the image's bytes until written, and executions of
// one Session never see each other's writes. The lazy build must number and fill pages exactly
// as building every page up front did (traces name pages by id).
#include "harness.hpp"
#include "model/check/session.hpp"
#include "sim/world/world.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

using namespace diosim;
using diosim::test::Harness;

namespace {

// The eager build user memory used to do: every page of every buffer made up front, in
// buffer order, numbered from `first_id`. Page address -> (id, bytes); id 0: unmapped.
struct EagerPage {
  uint32_t id = 0;
  std::vector<uint8_t> bytes;
};
std::map<uint64_t, EagerPage> eager(const scenario::ScenarioSpec& spec, uint32_t first_id) {
  const uint64_t ps = spec.geometry.page_size;
  std::map<uint64_t, EagerPage> pages;
  uint32_t next = first_id;
  for (const scenario::Buffer& b : spec.buffers) {
    const uint64_t first = b.address / ps * ps, end = b.address + b.size;
    for (uint64_t a = first, idx = 0; a < end; a += ps, ++idx) {
      if (std::count(b.unmapped_pages.begin(), b.unmapped_pages.end(), idx)) {
        pages.emplace(a, EagerPage{});
        continue;
      }
      EagerPage& p = pages[a];
      if (!p.id) p = EagerPage{next++, std::vector<uint8_t>(ps, 0)};
      const uint64_t from = std::max(a, b.address), to = std::min(a + ps, end);
      std::fill(p.bytes.begin() + static_cast<long>(from - a),
                p.bytes.begin() + static_cast<long>(to - a), b.fill);
    }
  }
  return pages;
}

// Random layouts in a 64-page window: edges shared by neighbours, unmapped pages, and (not
// allowed in scenario files, but UserMemory must still agree) overlapping buffers.
scenario::ScenarioSpec random_layout(std::mt19937_64& rng) {
  scenario::ScenarioSpec spec;
  spec.geometry.page_size = 4096;
  const int buffers = 1 + static_cast<int>(rng() % 5);
  for (int i = 0; i < buffers; ++i) {
    scenario::Buffer b;
    b.name = "b" + std::to_string(i);
    b.address = 0x100000 + rng() % (48 * 4096);
    b.size = 1 + rng() % (12 * 4096);
    b.fill = static_cast<uint8_t>('a' + i);
    const uint64_t pages = (b.address + b.size - 1) / 4096 - b.address / 4096 + 1;
    for (uint64_t k = 0; k < pages; ++k)
      if (rng() % 5 == 0) b.unmapped_pages.push_back(k);
    spec.buffers.push_back(b);
  }
  return spec;
}

} // namespace

TEST_CASE("user memory: pages made on touch carry the ids and bytes of the eager build") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    const scenario::ScenarioSpec spec = random_layout(rng);
    Harness h;
    const uint32_t first_id = h.kernel.next_page_id;
    const std::map<uint64_t, EagerPage> want = eager(spec, first_id);
    world::UserMemory mem(spec);
    uint32_t mapped = 0;
    for (const auto& [a, p] : want)
      mapped += p.id != 0;
    CHECK(h.kernel.next_page_id == first_id + mapped); // ids reserved as the eager build used
    for (uint64_t a = 0x100000 - 4096; a < 0x100000 + 64 * 4096; a += 4096) {
      auto it = want.find(a);
      const bool is_mapped = it != want.end() && it->second.id != 0;
      std::vector<uint8_t> seen(4096, '?');
      mem.snapshot_into(seen.data(), a, 4096); // before the page is made: read from the image
      CHECK(seen == (is_mapped ? it->second.bytes : std::vector<uint8_t>(4096, '?')));
      kern::page* p = mem.lookup(a + 17, round % 2 == 0);
      REQUIRE((p != nullptr) == is_mapped);
      if (!p) continue;
      CHECK(p->id == it->second.id);
      CHECK(p->user_addr == a);
      CHECK(std::equal(seen.begin(), seen.end(), kern::page_address(p)));
    }
    // Kernel::pages stays in id order however the pages were made.
    for (size_t i = 1; i < h.kernel.pages.size(); ++i)
      CHECK(h.kernel.pages[i - 1]->id < h.kernel.pages[i]->id);
  }
}

TEST_CASE("user memory: read lookups share the image, the first write copies, others unaffected") {
  scenario::ScenarioSpec spec;
  spec.buffers.push_back({"buf", 0x100000, 3 * 4096, 'W', {}});
  const world::UserMemoryImage image(spec);
  Harness h;
  world::UserMemory one(spec, &image), two(spec, &image);
  kern::page* p = one.lookup(0x101000, false);
  REQUIRE(p);
  CHECK(one.page_bytes_allocated() == 0); // read only: the image's bytes
  const uint8_t data[5] = {'x', 'y', 'z', 'z', 'y'};
  CHECK(one.copy_to_user(0x101ffe, data, 5) == 5); // crosses into the third page
  CHECK(one.page_bytes_allocated() == 2 * 4096);
  CHECK(one.lookup(0x101000, false) == p); // the same page, now with bytes of its own
  CHECK(kern::page_address(p)[4094] == 'x');
  CHECK(one.snapshot(0x101ffd, 7) == std::vector<uint8_t>{'W', 'x', 'y', 'z', 'z', 'y', 'W'});
  // Another view of the same image (another execution) still sees the fill.
  CHECK(two.snapshot(0x101ffd, 7) == std::vector<uint8_t>(7, 'W'));
  CHECK(two.pages_made() == 0);
  uint8_t back[7] = {};
  CHECK(two.copy_from_user(back, 0x101ffd, 7) == 7);
  CHECK(std::count(back, back + 7, 'W') == 7);
  CHECK(two.pages_made() == 0); // copying out makes no page
}

TEST_CASE("user memory: a 512 MiB buffer costs the pages touched; executions do not share writes") {
  // pwrite reads a page of the buffer, then pread writes file data over that same page. Were
  // the first execution's write to reach the image, the second execution's pwrite would write
  // 'D' and fail the scenario's file expectation (and change the outcome hash). The reference
  // model is off: its user buffers are still dense (512 MiB), and the expectations suffice.
  const std::string json = R"({
    "name": "big-buffer",
    "file": {"i_size": 16384,
             "extents": [{"file_block": 0, "disk_block": 100, "blocks": 4, "data": "16384:D"}]},
    "buffers": [{"name": "buf", "address": 1073741824, "size": 536870912, "fill": "W"}],
    "tasks": [{"name": "t", "ops": [
      {"op": "pwrite", "offset": 0, "iov": [{"buffer": "buf", "offset": 268435456, "len": 4096}],
       "expect": {"ret": 4096}},
      {"op": "pread", "offset": 8192, "iov": [{"buffer": "buf", "offset": 268435456, "len": 4096}],
       "expect": {"ret": 4096, "data": "4096:D"}}
    ]}],
    "expect": {"file": [{"offset": 0, "data": "4096:W 12288:D"}]}
  })";
  model::Session session(scenario::parse_scenario(json, "big-buffer.json"), /*check_model=*/false);
  std::vector<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    engine::RandomChooser chooser(seed);
    size_t pages_made = 0, kernel_pages = 0;
    uint64_t bytes = 0;
    std::vector<uint8_t> around;
    const model::ExecSummary s =
        session.execute(chooser, {},
                        [&](const engine::Scheduler&, const kern::Kernel& k, const world::World& w,
                            const model::ExecSummary&) {
                          pages_made = w.memory().pages_made();
                          bytes = w.memory().page_bytes_allocated();
                          kernel_pages = k.pages.size();
                          around = w.memory().snapshot(1073741824 + 268435456 - 2, 4100);
                        });
    CHECK_FALSE(s.violation);
    CHECK(s.failed_expectations.empty());
    CHECK(pages_made == 1);   // one page of 131 072 was ever made
    CHECK(bytes == 4096);     // and got bytes of its own once pread wrote it
    CHECK(kernel_pages <= 2); // that page and ZERO_PAGE
    REQUIRE(around.size() == 4100);
    CHECK(around[0] == 'W');
    CHECK(around[1] == 'W');
    CHECK(std::count(around.begin() + 2, around.begin() + 4098, 'D') == 4096);
    CHECK(around[4098] == 'W');
    hashes.push_back(s.outcome_hash);
  }
  CHECK(hashes[0] == hashes[1]);
  CHECK(hashes[1] == hashes[2]);
}
