// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/disk.hpp"

#include "sim/kernel/irq.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::world {

DiskImage DiskImage::initial(const ScenarioSpec& spec) {
  DiskImage img(static_cast<uint8_t>(spec.disk.stale_byte));
  const unsigned bs = spec.geometry.fs_block_size;
  std::vector<const Extent*> extents; // every file's (scenario "files")
  for (const Extent& e : spec.extents)
    extents.push_back(&e);
  for (const FileSpec& f : spec.files)
    for (const Extent& e : f.extents)
      extents.push_back(&e);
  for (const Extent* extent : extents) {
    const Extent& e = *extent;
    img.mark_written(e.disk_block * bs, e.blocks * bs); // the file's contents, stale or not
    if (!e.data) continue;
    // Run by run: a fill stays a uniform chunk, never expanded into bytes.
    uint64_t pos = e.disk_block * bs;
    const uint64_t end = pos + e.blocks * bs;
    std::vector<uint8_t> run;
    for (const ByteRuns::Run& r : e.data->runs) {
      const uint64_t n = std::min<uint64_t>(r.len, end - pos);
      for (uint64_t done = 0; done < n;) {
        const uint64_t k = std::min<uint64_t>(n - done, 1u << 20);
        run.assign(k, r.byte);
        img.write(pos + done, run.data(), k);
        done += k;
      }
      pos += n;
      if (pos == end) break;
    }
  }
  return img;
}

DiskImage::Chunk& DiskImage::chunk(uint64_t index) {
  auto it = chunks_.lower_bound(index);
  if (it == chunks_.end() || it->first != index)
    it = chunks_.emplace_hint(it, index, Chunk{nullptr, stale_, 0});
  return it->second;
}

uint8_t* DiskImage::own(Chunk& c) {
  if (c.bytes && c.bytes.use_count() == 1) return c.bytes.get();
  std::shared_ptr<uint8_t[]> mine(new uint8_t[kChunkBytes]);
  if (c.bytes)
    std::memcpy(mine.get(), c.bytes.get(), kChunkBytes);
  else
    std::memset(mine.get(), c.fill, kChunkBytes);
  c.bytes = std::move(mine);
  return c.bytes.get();
}

// Sectors [pos / 512, (pos + len + 511) / 512), one chunk lookup per chunk.
void DiskImage::mark_written(uint64_t pos, uint64_t len) {
  constexpr uint64_t kPer = kChunkBytes / 512;
  const uint64_t end = (pos + len + 511) / 512;
  for (uint64_t s = pos / 512; s < end;) {
    const uint64_t c = s / kPer, stop = std::min(end, (c + 1) * kPer);
    unsigned bits = 0;
    for (; s < stop; ++s)
      bits |= 1u << (s % kPer);
    chunk(c).written |= static_cast<uint8_t>(bits);
  }
}

bool DiskImage::sector_written(uint64_t sector) const {
  auto it = chunks_.find(sector / (kChunkBytes / 512));
  return it != chunks_.end() && (it->second.written >> (sector % (kChunkBytes / 512)) & 1);
}

std::optional<uint8_t> DiskImage::uniform(uint64_t pos, uint64_t len) const {
  std::optional<uint8_t> value;
  for (uint64_t c = pos / kChunkBytes; len && c <= (pos + len - 1) / kChunkBytes; ++c) {
    auto it = chunks_.find(c);
    if (it != chunks_.end() && it->second.bytes) return std::nullopt;
    const uint8_t v = it == chunks_.end() ? stale_ : it->second.fill;
    if (value && *value != v) return std::nullopt;
    value = v;
  }
  return value;
}

uint64_t DiskImage::chunk_bytes() const {
  uint64_t n = 0;
  for (const auto& [index, c] : chunks_)
    if (c.bytes) n += kChunkBytes;
  return n;
}

void DiskImage::read(uint64_t pos, uint8_t* dst, size_t len) const {
  auto it = chunks_.lower_bound(pos / kChunkBytes);
  while (len) {
    const uint64_t off = pos % kChunkBytes;
    const size_t n = std::min<size_t>(len, kChunkBytes - off);
    while (it != chunks_.end() && it->first < pos / kChunkBytes)
      ++it;
    if (it == chunks_.end() || it->first != pos / kChunkBytes)
      std::memset(dst, stale_, n);
    else if (it->second.bytes)
      std::memcpy(dst, it->second.bytes.get() + off, n);
    else
      std::memset(dst, it->second.fill, n);
    pos += n, dst += n, len -= n;
  }
}

void DiskImage::visit(uint64_t pos, uint64_t len, const Visitor& fn) const {
  static const std::shared_ptr<const void> kNone;
  auto it = chunks_.lower_bound(pos / kChunkBytes);
  while (len) {
    const uint64_t off = pos % kChunkBytes;
    const uint64_t n = std::min<uint64_t>(len, kChunkBytes - off);
    while (it != chunks_.end() && it->first < pos / kChunkBytes)
      ++it;
    if (it == chunks_.end() || it->first != pos / kChunkBytes) {
      fn(pos, n, nullptr, stale_, kNone);
    } else if (it->second.bytes) {
      const std::shared_ptr<const void> keep = it->second.bytes;
      fn(pos, n, it->second.bytes.get() + off, 0, keep);
    } else {
      fn(pos, n, nullptr, it->second.fill, kNone);
    }
    pos += n, len -= n;
  }
}

// True when the n bytes at p all equal p[0].
static bool all_one_value(const uint8_t* p, size_t n) {
  return n == 0 || (p[0] == p[n - 1] && std::memcmp(p, p + 1, n - 1) == 0);
}

void DiskImage::write(uint64_t pos, const uint8_t* src, size_t len) {
  mark_written(pos, len);
  while (len) {
    const uint64_t off = pos % kChunkBytes;
    const size_t n = std::min<size_t>(len, kChunkBytes - off);
    Chunk& c = chunk(pos / kChunkBytes);
    if (n == kChunkBytes && all_one_value(src, n)) {
      c.bytes.reset(); // a whole chunk of one value stays a value
      c.fill = src[0];
    } else if (!c.bytes && all_one_value(src, n) && src[0] == c.fill) {
      // already those bytes
    } else {
      std::memcpy(own(c) + off, src, n);
    }
    pos += n, src += n, len -= n;
  }
}

SimDisk::SimDisk(const ScenarioSpec& spec, engine::Scheduler& sched, const DiskImage* initial)
    : spec_(spec), sched_(sched), image_(initial ? *initial : DiskImage::initial(spec)),
      size_bytes_(spec.geometry.disk_blocks * spec.geometry.fs_block_size) {}

kern::blk_status_t SimDisk::injected_status(const kern::bio* b) {
  const uint64_t first = b->bi_iter.bi_sector;
  const uint64_t last = first + std::max<uint64_t>(b->bi_iter.bi_size >> 9, 1) - 1;
  for (const DiskErrorRule& r : spec_.disk.errors) {
    bool hit = false;
    switch (r.kind) {
    case DiskErrorRule::Kind::bio_ordinal:
      hit = r.bio == received_;
      break;
    case DiskErrorRule::Kind::sectors:
      hit = first <= r.sector_last && r.sector_first <= last;
      break;
    case DiskErrorRule::Kind::probability:
      // Drawn through the Chooser so the decision is recorded and replayable.
      hit = sched_.draw(0, 999'999) < static_cast<uint64_t>(r.probability * 1'000'000.0);
      break;
    }
    if (hit) return r.again ? kern::BLK_STS_AGAIN : kern::BLK_STS_IOERR;
  }
  if (spec_.explore_faults.bio_error) {
    // A fault point of the explorer: OK, an I/O error, or (NOWAIT bios) BLK_STS_AGAIN.
    const bool nowait = b->bi_opf & kern::REQ_NOWAIT;
    switch (sched_.choose_fault(engine::FaultSite::bio_status, nowait ? 3 : 2)) {
    case 1:
      return kern::BLK_STS_IOERR;
    case 2:
      return kern::BLK_STS_AGAIN;
    default:
      break;
    }
  }
  return kern::BLK_STS_OK;
}

void SimDisk::trace(char ph, const char* name, const kern::bio* b, kern::blk_status_t status) {
  kern::Kernel& k = kern::K();
  if (!k.tracer) return;
  engine::TraceEvent e;
  e.ph = ph;
  e.name = name;
  e.cat = "bio";
  e.pid = engine::TracePid::block;
  e.tid = 1;
  e.ts_ns = sched_.now_ns();
  e.step = sched_.step();
  e.id = kern::bio_name(b);
  e.args.push_back(kern::arg("bio", kern::bio_name(b)));
  e.args.push_back(kern::arg("rwbs", kern::bio_rwbs(b)));
  e.args.push_back(kern::arg("sector", static_cast<int64_t>(b->bi_iter.bi_sector)));
  e.args.push_back(kern::arg("nr_sectors", static_cast<int64_t>(b->bi_iter.bi_size >> 9)));
  if (ph == 'n' && name[0] == 'C')
    e.args.push_back(kern::arg("error", status ? kern::blk_status_to_errno(status) : 0));
  e.args.push_back(kern::arg("in_flight", static_cast<int64_t>(in_flight_)));
  k.tracer->add(std::move(e));
}

void SimDisk::queue_bio(kern::bio* b) {
  ++received_;
  InFlight& f = records_.emplace_back(InFlight{this, b, injected_status(b)});
  if (in_flight_ < spec_.disk.queue_depth)
    start(&f);
  else
    waiting_.push_back(&f);
}

void SimDisk::start(InFlight* f) {
  ++in_flight_;
  trace('n', "D", f->bio, 0);
  sched_.post_event(&SimDisk::on_complete, f, spec_.disk.latency_ns_min, spec_.disk.latency_ns_max);
}

void SimDisk::on_complete(void* arg, uint64_t) {
  auto* f = static_cast<InFlight*>(arg);
  f->disk->complete(f);
}

// What a completion touches, for the explorer: the bio, the disk's 4 KiB chunks it covers and
// the pages it moves data to or from.
static void note_completion(const kern::bio* b) {
  kern::note_access(kern::obj(engine::ObjectKind::bio, b->id), true);
  const uint64_t first = b->bi_iter.bi_sector * 512 / 4096;
  const uint64_t last = (b->bi_iter.bi_sector * 512 + std::max(b->bi_iter.bi_size, 1u) - 1) / 4096;
  for (uint64_t c = first; c <= last; ++c)
    kern::note_access(kern::obj(engine::ObjectKind::disk, c), true);
  for (unsigned i = 0; i < b->bi_vcnt; ++i)
    kern::note_access(kern::obj(engine::ObjectKind::page, b->bi_io_vec[i].bv_page->id), true);
}

void SimDisk::complete(InFlight* f) {
  kern::bio* b = f->bio;
  note_completion(b);
  b->bi_status = f->status;
  if (f->status == kern::BLK_STS_OK) {
    uint64_t pos = b->bi_iter.bi_sector * 512;
    const bool write = (b->bi_opf & kern::REQ_OP_MASK) == kern::REQ_OP_WRITE;
    for (unsigned i = 0; i < b->bi_vcnt; ++i) {
      const kern::bio_vec& bv = b->bi_io_vec[i];
      if (pos + bv.bv_len > size_bytes())
        throw engine::InternalError("bio beyond the end of the disk: " + kern::bio_name(b));
      uint8_t* mem = kern::page_address(bv.bv_page) + bv.bv_offset;
      if (write)
        this->write(pos, mem, bv.bv_len);
      else if (!bv.bv_page->is_zero_page) {
        for (uint64_t s = pos / 512; s < (pos + bv.bv_len) / 512; ++s)
          if (on_unwritten_read && !image_.sector_written(s)) on_unwritten_read(s, b);
        read(pos, mem, bv.bv_len);
      }
      pos += bv.bv_len;
    }
  }
  --in_flight_;
  ++completed_;
  trace('n', "C", b, f->status);
  if (!waiting_.empty()) {
    InFlight* next = waiting_.front();
    waiting_.pop_front();
    start(next);
  }
  kern::raise_bio_completion(b);
}

} // namespace diosim::world
