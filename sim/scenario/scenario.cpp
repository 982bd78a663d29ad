// SPDX-License-Identifier: GPL-2.0-only
// Scenario parsing: JSON -> schema validation -> ScenarioSpec -> semantic checks.
// Schema errors are all reported together; when there are none, the semantic checks run and
// are all reported together too. Every line of a ScenarioError reads "FILE: /json/path: problem".
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/json_schema.hpp"
#include "sim/scenario/parse_util.hpp"

namespace diosim::scenario {

using namespace detail; // NOLINT(google-build-using-namespace): the parser's own vocabulary

extern const char* const kScenarioSchemaJson; // generated from scenarios/schema.json

namespace {

bool printable_byte(unsigned c) {
  return c >= 0x21 && c <= 0x7e;
}

std::string hex2(unsigned v) {
  static const char* const kDigits = "0123456789abcdef";
  return {kDigits[(v >> 4) & 15], kDigits[v & 15]};
}

} // namespace

// ---------------------------------------------------------------------------------------------
// ByteRuns

const char* alloc_site_name(AllocSite site) {
  switch (site) {
  case AllocSite::dio:
    return "dio";
  case AllocSite::dio_done_wq:
    return "dio_done_wq";
  case AllocSite::fs_block:
    return "fs_block";
  }
  return "dio";
}

const char* iter_kind_name(IterKind kind) {
  switch (kind) {
  case IterKind::ubuf:
    return "ubuf";
  case IterKind::bvec:
    return "bvec";
  case IterKind::kvec:
    return "kvec";
  case IterKind::iovec:
    break;
  }
  return "iovec";
}

uint64_t ByteRuns::size() const {
  uint64_t n = 0;
  for (const Run& r : runs)
    n += r.len;
  return n;
}

std::vector<uint8_t> ByteRuns::expand() const {
  std::vector<uint8_t> out;
  out.reserve(size());
  for (const Run& r : runs)
    out.insert(out.end(), r.len, r.byte);
  return out;
}

bool ByteRuns::matches(const uint8_t* data, size_t len) const {
  size_t at = 0;
  for (const Run& r : runs) {
    if (r.len > len - at) return false;
    // Every byte equals the first, and the first is r.byte (memcmp is vectorised).
    const uint8_t* p = data + at;
    if (r.len && (p[0] != r.byte || std::memcmp(p, p + 1, r.len - 1) != 0)) return false;
    at += r.len;
  }
  return at == len;
}

std::optional<ByteRuns> ByteRuns::parse(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<ByteRuns> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (text.empty()) return fail("no runs (expected runs like \"4096:A 512:zero\")");
  if (text.front() == ' ' || text.back() == ' ') return fail("leading or trailing space");
  ByteRuns out;
  uint64_t total = 0;
  size_t pos = 0;
  for (int index = 1; pos < text.size(); ++index) {
    const size_t end = std::min(text.find(' ', pos), text.size());
    const std::string tok = text.substr(pos, end - pos);
    pos = text.find_first_not_of(' ', end);
    if (pos == std::string::npos) pos = text.size();
    const std::string shown = tok.size() > 40 ? tok.substr(0, 36) + "..." : tok;
    const std::string where = "run " + std::to_string(index) + " \"" + shown + "\": ";
    const size_t colon = tok.find(':');
    if (colon == std::string::npos) return fail(where + "expected LEN:X");
    const std::string len_text = tok.substr(0, colon), byte_text = tok.substr(colon + 1);
    if (len_text.empty() || len_text[0] == '0' ||
        len_text.find_first_not_of("0123456789") != std::string::npos)
      return fail(where + "the length must be a positive decimal number");
    uint64_t len = 0;
    for (char c : len_text) {
      if (len > (kMaxRunsBytes - 9) / 10) return fail(where + "the length is too large");
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    uint8_t byte;
    if (byte_text == "zero")
      byte = 0;
    else if (byte_text.size() == 1 && printable_byte(static_cast<unsigned char>(byte_text[0])))
      byte = static_cast<uint8_t>(byte_text[0]);
    else
      return fail(where +
                  "the byte must be one printable ASCII character other than space, or \"zero\"");
    if (len > kMaxRunsBytes - total) return fail("the total length is too large");
    total += len;
    out.runs.push_back({len, byte});
  }
  return out;
}

std::string ByteRuns::describe(const uint8_t* data, size_t len) {
  std::string out;
  for (size_t i = 0; i < len;) {
    size_t j = i + 1;
    while (j < len && data[j] == data[i])
      ++j;
    if (!out.empty()) out.push_back(' ');
    out += std::to_string(j - i);
    out.push_back(':');
    if (data[i] == 0)
      out += "zero";
    else if (printable_byte(data[i]))
      out.push_back(static_cast<char>(data[i]));
    else
      out += "\\x" + hex2(data[i]);
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

const J& scenario_schema() {
  static const J schema = J::parse(kScenarioSchemaJson);
  return schema;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void report_schema_errors(const std::vector<SchemaError>& schema_errors, const J& doc,
                          Errors& errors) {
  for (const SchemaError& e : schema_errors) {
    std::string message = e.message;
    const J* value = nullptr;
    try {
      value = &doc.at(J::json_pointer(e.path));
    } catch (const std::exception&) {
    }
    if (value && value->is_string()) {
      const std::string s = value->get<std::string>();
      if (ends_with(e.schema_path, "/$defs/byte_runs/pattern")) {
        std::string why;
        if (!ByteRuns::parse(s, &why)) message = "invalid byte runs " + qstr(s) + ": " + why;
      } else if (ends_with(e.schema_path, "/$defs/byte/pattern")) {
        message = "expected one printable ASCII character other than space, or \"zero\", found " +
                  qstr(s);
      } else if (ends_with(e.schema_path, "/data_fnv1a/pattern")) {
        message = "expected 16 lowercase hex digits, found " + qstr(s);
      }
    }
    errors.add(e.path, message);
  }
}

// ---- building the spec: one function per section of the file, in the order of build() ----

// Top-level scalars: name, description, mode, seed, step cost, schedule.
void build_top_level(const J& doc, const std::string& path, ScenarioSpec& spec) {
  spec.path = path;
  if (const J* v = field(doc, "name"))
    spec.name = v->get<std::string>();
  else
    spec.name = path.empty() ? "scenario" : std::filesystem::path(path).stem().string();
  if (const J* v = field(doc, "description")) spec.description = v->get<std::string>();
  if (const J* v = field(doc, "mode"))
    spec.mode = v->get<std::string>() == "explore" ? Mode::explore : Mode::timed;
  if (const J* v = field(doc, "seed")) spec.seed = as_u64(*v);
  if (const J* v = field(doc, "step_cost_ns")) spec.step_cost_ns = as_u64(*v);
  if (const J* v = field(doc, "schedule")) spec.schedule = v->get<std::string>();
}

// "explore_faults": distinct names; the schema has already rejected unknown ones.
void build_explore_faults(const J& doc, ExploreFaults& faults, Errors& errors) {
  const J* list = field(doc, "explore_faults");
  if (!list) return;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string name = (*list)[i].get<std::string>();
    const std::string at = "/explore_faults/" + std::to_string(i);
    if (auto [it, fresh] = seen.emplace(name, i); !fresh) {
      errors.add(at, "fault point " + qstr(name) + " is already listed at /explore_faults/" +
                         std::to_string(it->second));
      continue;
    }
    if (name == "bio_error")
      faults.bio_error = true;
    else if (name == "get_block_error")
      faults.get_block_error = true;
    else if (name == "user_page_fault")
      faults.user_page_fault = true;
    else if (name == "dio_alloc")
      faults.dio_alloc = true;
    else if (name == "dio_done_wq_alloc")
      faults.dio_done_wq_alloc = true;
    else if (name == "fs_block_alloc")
      faults.fs_block_alloc = true;
    else if (name == "writeback_error")
      faults.writeback_error = true;
    else
      errors.add(at, "unknown fault point " + qstr(name)); // only if the schema and this differ
  }
}

// "alloc_failures": each (site, nth) at most once; the schema has checked the names and range.
void build_alloc_failures(const J& doc, ScenarioSpec& spec, Errors& errors) {
  const J* list = field(doc, "alloc_failures");
  if (!list) return;
  for (size_t i = 0; i < list->size(); ++i) {
    const J& x = (*list)[i];
    const std::string at = "/alloc_failures/" + std::to_string(i);
    AllocFailure a;
    const std::string site = x["site"].get<std::string>();
    a.site = site == "dio_done_wq" ? AllocSite::dio_done_wq
             : site == "fs_block"  ? AllocSite::fs_block
                                   : AllocSite::dio;
    a.nth = as_u64(x["nth"]);
    for (size_t k = 0; k < spec.alloc_failures.size(); ++k)
      if (spec.alloc_failures[k] == a)
        errors.add(at, "allocation " + std::to_string(a.nth) + " at site " + qstr(site) +
                           " is already listed at /alloc_failures/" + std::to_string(k));
    spec.alloc_failures.push_back(a);
  }
}

void build_geometry(const J& doc, Geometry& g) {
  const J* geo = field(doc, "geometry");
  if (!geo) return;
  if (const J* v = field(*geo, "page_size")) g.page_size = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "fs_block_size"))
    g.fs_block_size = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "logical_block_size"))
    g.logical_block_size = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "disk_blocks")) g.disk_blocks = as_u64(*v);
  if (const J* v = field(*geo, "dio_pages")) g.dio_pages = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "bio_max_vecs")) g.bio_max_vecs = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "reap_threshold")) g.reap_threshold = static_cast<int>(as_i64(*v));
  if (const J* v = field(*geo, "plug_limit")) g.plug_limit = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*geo, "cpus")) g.cpus = static_cast<unsigned>(as_u64(*v));
}

// Powers of two, logical <= fs block <= page, and a disk that fits in memory.
void check_geometry(const Geometry& g, Errors& errors) {
  bool sizes_ok = true;
  for (auto [name, value] : {std::pair<const char*, unsigned>{"page_size", g.page_size},
                             {"fs_block_size", g.fs_block_size},
                             {"logical_block_size", g.logical_block_size}}) {
    if (!power_of_two(value)) {
      errors.add(std::string("/geometry/") + name,
                 std::string(name) + " must be a power of two, found " + std::to_string(value));
      sizes_ok = false;
    }
  }
  if (sizes_ok && g.logical_block_size > g.fs_block_size)
    errors.add("/geometry/logical_block_size",
               "logical_block_size (" + std::to_string(g.logical_block_size) +
                   ") must not exceed fs_block_size (" + std::to_string(g.fs_block_size) + ")");
  if (sizes_ok && g.fs_block_size > g.page_size)
    errors.add("/geometry/fs_block_size", "fs_block_size (" + std::to_string(g.fs_block_size) +
                                              ") must not exceed page_size (" +
                                              std::to_string(g.page_size) +
                                              "): the kernel requires blocksize <= PAGE_SIZE");
  const uint64_t block = g.fs_block_size;
  if (static_cast<unsigned __int128>(g.disk_blocks) * block > kMaxDiskBytes)
    errors.add("/geometry/disk_blocks", "the disk would hold " + std::to_string(g.disk_blocks) +
                                            " * " + std::to_string(block) +
                                            " bytes; diosim allows at most 1 TiB (the filesystem "
                                            "model keeps a bit per disk block)");
}

// One extent at `at`, checked against the disk, the file offset limit and the extents before it.
// `base`: the JSON path of the file the extents belong to ("/file", "/files/NAME").
Extent build_extent(const J& x, const std::string& at, const ScenarioSpec& spec, Errors& errors,
                    const std::string& base = "/file") {
  const Geometry& g = spec.geometry;
  const uint64_t block = g.fs_block_size;
  Extent e;
  e.file_block = as_u64(x["file_block"]);
  e.disk_block = as_u64(x["disk_block"]);
  e.blocks = as_u64(x["blocks"]);
  if (const J* d = field(x, "data")) e.data = runs_of(*d, at + "/data", errors);
  if (e.disk_block + e.blocks > g.disk_blocks)
    errors.add(at, "disk blocks " + range_text(e.disk_block, e.blocks) +
                       " lie beyond the end of the disk (disk_blocks " +
                       std::to_string(g.disk_blocks) + ")");
  if (static_cast<unsigned __int128>(e.file_block + e.blocks) * block > kMaxFileBytes)
    errors.add(at, "the extent ends beyond the largest file offset 2^62");
  if (e.data && e.data->size() != e.blocks * block)
    errors.add(at + "/data",
               "byte runs hold " + std::to_string(e.data->size()) +
                   " bytes, expected blocks * fs_block_size = " + std::to_string(e.blocks * block));
  for (size_t j = 0; j < spec.extents.size(); ++j) {
    const Extent& o = spec.extents[j];
    auto other = [j, &base] { return base + "/extents/" + std::to_string(j); };
    if (e.file_block < o.file_block + o.blocks && o.file_block < e.file_block + e.blocks)
      errors.add_lazy(at, [&] {
        return "file blocks " + range_text(e.file_block, e.blocks) + " overlap " + other() +
               " (file blocks " + range_text(o.file_block, o.blocks) + ")";
      });
    if (e.disk_block < o.disk_block + o.blocks && o.disk_block < e.disk_block + e.blocks)
      errors.add_lazy(at, [&] {
        return "disk blocks " + range_text(e.disk_block, e.blocks) + " overlap " + other() +
               " (disk blocks " + range_text(o.disk_block, o.blocks) + ")";
      });
  }
  return e;
}

void build_page_cache(const J& list, ScenarioSpec& spec, Errors& errors,
                      const std::string& base = "/file") {
  const Geometry& g = spec.geometry;
  std::map<uint64_t, size_t> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const J& x = list[i];
    const std::string at = base + "/page_cache/" + std::to_string(i);
    CachedPage p;
    p.index = as_u64(x["index"]);
    if (const J* v = field(x, "dirty")) p.dirty = v->get<bool>();
    if (const J* v = field(x, "busy")) p.busy = v->get<bool>();
    if (const J* v = field(x, "writeback_error")) p.writeback_error = v->get<bool>();
    if (const J* d = field(x, "data")) p.data = runs_of(*d, at + "/data", errors);
    if (auto [it, fresh] = seen.emplace(p.index, i); !fresh)
      errors.add(at + "/index", "page index " + std::to_string(p.index) + " is already listed at " +
                                    base + "/page_cache/" + std::to_string(it->second));
    if (static_cast<unsigned __int128>(p.index + 1) * g.page_size > kMaxFileBytes)
      errors.add(at + "/index", "the page lies beyond the largest file offset 2^62");
    if (p.data && p.data->size() != g.page_size)
      errors.add(at + "/data", "byte runs hold " + std::to_string(p.data->size()) +
                                   " bytes, expected page_size = " + std::to_string(g.page_size));
    spec.page_cache.push_back(std::move(p));
  }
}

// "file": i_size, extents (needed by the filesystem defaults), page cache.
void build_file(const J& doc, ScenarioSpec& spec, Errors& errors) {
  const J* file = field(doc, "file");
  if (!file) return;
  if (const J* v = field(*file, "i_size")) spec.i_size = as_i64(*v);
  if (const J* list = field(*file, "extents")) {
    for (size_t i = 0; i < list->size(); ++i) {
      Extent e = build_extent((*list)[i], "/file/extents/" + std::to_string(i), spec, errors);
      spec.extents.push_back(std::move(e));
    }
  }
  if (const J* list = field(*file, "page_cache")) build_page_cache(*list, spec, errors);
}

void build_file_expect(const J& e, const std::string& base, ScenarioSpec& spec, Errors& errors);

// "files": each other file's i_size, extents, page cache and end expectations; its extents'
// disk blocks must not overlap any other file's (one disk, one allocator).
void build_files(const J& doc, ScenarioSpec& spec, Errors& errors) {
  const J* files = field(doc, "files");
  if (!files) return;
  for (auto m = files->begin(); m != files->end(); ++m) {
    FileSpec f;
    f.name = m.key();
    const std::string base = "/files/" + f.name;
    if (!valid_file_name(f.name))
      errors.add(base, "file name " + qstr(f.name) +
                           (f.name == kDefaultFileName ? " is the default file's (\"file\")"
                                                       : " must match ^[A-Za-z_][A-Za-z0-9_.-]*$"));
    const J& x = m.value();
    ScenarioSpec one; // the per-file builders work on a spec's default-file fields
    one.geometry = spec.geometry;
    if (const J* v = field(x, "i_size")) one.i_size = as_i64(*v);
    if (const J* list = field(x, "extents"))
      for (size_t i = 0; i < list->size(); ++i)
        one.extents.push_back(
            build_extent((*list)[i], base + "/extents/" + std::to_string(i), one, errors, base));
    if (const J* list = field(x, "page_cache")) build_page_cache(*list, one, errors, base);
    if (const J* e = field(x, "expect")) build_file_expect(*e, base + "/expect", one, errors);
    f.i_size = one.i_size;
    f.extents = std::move(one.extents);
    f.page_cache = std::move(one.page_cache);
    f.expect_i_size = std::move(one.expect_i_size);
    f.expect_file = std::move(one.expect_file);
    spec.files.push_back(std::move(f));
  }
  check_disk_overlaps(spec, errors);
}

// The allocator must not hand out an extent's blocks: first_free_block >= every extent's end.
void check_first_free_block(const ScenarioSpec& spec, uint64_t extents_end, Errors& errors) {
  const Filesystem& fs = spec.fs;
  if (fs.first_free_block > spec.geometry.disk_blocks)
    errors.add("/filesystem/first_free_block",
               "first_free_block " + std::to_string(fs.first_free_block) +
                   " lies beyond the end of the disk (disk_blocks " +
                   std::to_string(spec.geometry.disk_blocks) + ")");
  for (size_t i = 0; i < spec.extents.size(); ++i) {
    const Extent& e = spec.extents[i];
    if (e.disk_block + e.blocks > fs.first_free_block) {
      errors.add("/filesystem/first_free_block",
                 "the allocator would hand out blocks of /file/extents/" + std::to_string(i) +
                     " (disk blocks " + range_text(e.disk_block, e.blocks) +
                     "); first_free_block must be at least " + std::to_string(extents_end));
      break;
    }
  }
}

// The error injection fields of "filesystem": get_block_error and end_io_error.
void build_fs_errors(const J& f, Filesystem& fs, Errors& errors) {
  if (const J* e = field(f, "get_block_error")) {
    fs.error_at_block = as_u64((*e)["block"]);
    if (const J* n = field(*e, "errno")) {
      fs.error_errno = errno_value(n->get<std::string>());
      if (!fs.error_errno)
        errors.add("/filesystem/get_block_error/errno", "unknown errno name " + n->dump());
    }
  }
  if (const J* n = field(f, "end_io_error")) {
    fs.end_io_error = errno_value(n->get<std::string>());
    if (!fs.end_io_error) errors.add("/filesystem/end_io_error", "unknown errno name " + n->dump());
    if (fs.model != FsModel::ocfs2)
      errors.add("/filesystem/end_io_error",
                 "end_io_error applies to the ocfs2 model only; the ext2 and extent models "
                 "have no end_io");
  }
}

// "used_blocks": runs on the disk, not overlapping the file's extents.
void build_used_blocks(const J& list, ScenarioSpec& spec, Errors& errors) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "/filesystem/used_blocks/" + std::to_string(i);
    DiskRun u{as_u64(list[i]["disk_block"]), as_u64(list[i]["blocks"])};
    if (u.disk_block + u.blocks > spec.geometry.disk_blocks) {
      errors.add(at, "disk blocks " + range_text(u.disk_block, u.blocks) +
                         " lie beyond the end of the disk (disk_blocks " +
                         std::to_string(spec.geometry.disk_blocks) + ")");
      continue;
    }
    for (size_t k = 0; k < spec.extents.size(); ++k) {
      const Extent& e = spec.extents[k];
      if (u.disk_block < e.disk_block + e.blocks && e.disk_block < u.disk_block + u.blocks)
        errors.add(at, "disk blocks " + range_text(u.disk_block, u.blocks) +
                           " overlap /file/extents/" + std::to_string(k) +
                           ": the file's own blocks are not another file's");
    }
    spec.fs.used_blocks.push_back(u);
  }
}

// The model modes: ocfs2's "unwritten", the extent models' "serialise_unaligned_aio".
void build_fs_modes(const J& f, Filesystem& fs, Errors& errors) {
  if (const J* v = field(f, "unwritten")) {
    fs.unwritten = v->get<bool>();
    if (fs.model != FsModel::ocfs2)
      errors.add("/filesystem/unwritten",
                 "unwritten applies to the ocfs2 model only (ext2 and extent fill no holes "
                 "inside i_size from direct I/O)");
  }
  if (const J* v = field(f, "serialise_unaligned_aio")) {
    fs.serialise_unaligned_aio = v->get<bool>();
    if (fs.model == FsModel::ext2 || fs.model == FsModel::vfat)
      errors.add("/filesystem/serialise_unaligned_aio",
                 std::string("the ") + (fs.model == FsModel::ext2 ? "ext2" : "vfat") +
                     " model does not serialise unaligned AIO (Linux 6.1 does not); use the "
                     "extent or ocfs2 model");
  }
}

// vfat: cluster_size, cluster-aligned extents, and no holes inside i_size (FAT has none).
void check_vfat(const J* f, ScenarioSpec& spec, Errors& errors, const std::string& base = "/file") {
  Filesystem& fs = spec.fs;
  const J* cs = f ? field(*f, "cluster_size") : nullptr;
  if (fs.model != FsModel::vfat) {
    if (cs) errors.add("/filesystem/cluster_size", "cluster_size applies to the vfat model only");
    return;
  }
  const uint64_t bs = spec.geometry.fs_block_size;
  fs.cluster_size = cs ? as_u64(*cs) : bs;
  if (fs.cluster_size < bs || fs.cluster_size % bs || (fs.cluster_size & (fs.cluster_size - 1))) {
    errors.add("/filesystem/cluster_size",
               "cluster_size " + std::to_string(fs.cluster_size) +
                   " must be a power of two of at least fs_block_size " + std::to_string(bs));
    return;
  }
  const uint64_t cb = fs.cluster_size / bs;
  const uint64_t size_clusters =
      (static_cast<uint64_t>(spec.i_size) + fs.cluster_size - 1) / fs.cluster_size;
  uint64_t covered = 0; // file blocks [0, covered) are mapped, in extent order
  for (size_t i = 0; i < spec.extents.size(); ++i) {
    const Extent& e = spec.extents[i];
    const std::string at = base + "/extents/" + std::to_string(i);
    if (e.file_block % cb || e.disk_block % cb || e.blocks % cb)
      errors.add(at, "vfat extents hold whole clusters: file_block, disk_block and blocks must "
                     "be multiples of " +
                         std::to_string(cb) + " (cluster_size / fs_block_size)");
    else if (e.file_block != covered)
      errors.add(at, "vfat files have no holes: extents must cover file blocks from 0 on, in "
                     "order, without gaps (expected file_block " +
                         std::to_string(covered) + ")");
    covered = std::max(covered, e.file_block + e.blocks);
  }
  if (covered != size_clusters * cb)
    errors.add(base + "/extents", "vfat files have no holes: the extents must cover exactly the " +
                                      std::to_string(size_clusters) + " clusters of i_size " +
                                      std::to_string(spec.i_size) + " (they cover " +
                                      std::to_string(covered) + " blocks)");
}

// Another file ("files") against the filesystem: every extent below first_free_block, none
// overlapping used_blocks, and (vfat) whole clusters without holes; messages name its path.
void check_files_fs(const J* fs_json, ScenarioSpec& spec, uint64_t extents_end, Errors& errors) {
  for (const FileSpec& f : spec.files) {
    const std::string base = "/files/" + f.name;
    for (size_t i = 0; i < f.extents.size(); ++i) {
      const Extent& e = f.extents[i];
      const std::string at = base + "/extents/" + std::to_string(i);
      if (e.disk_block + e.blocks > spec.fs.first_free_block)
        errors.add("/filesystem/first_free_block", "the allocator would hand out blocks of " + at +
                                                       "; first_free_block must be at least " +
                                                       std::to_string(extents_end));
      for (const DiskRun& u : spec.fs.used_blocks)
        if (u.disk_block < e.disk_block + e.blocks && e.disk_block < u.disk_block + u.blocks)
          errors.add(at, "disk blocks " + range_text(e.disk_block, e.blocks) +
                             " overlap a run of /filesystem/used_blocks");
    }
    const uint64_t cs = spec.fs.cluster_size, bs = spec.geometry.fs_block_size;
    if (spec.fs.model != FsModel::vfat || cs < bs || cs % bs || (cs & (cs - 1))) continue;
    ScenarioSpec one; // check_vfat reads the default file's fields: give it this file's
    one.geometry = spec.geometry;
    one.fs = spec.fs;
    one.i_size = f.i_size;
    one.extents = f.extents;
    check_vfat(fs_json, one, errors, base);
  }
}

// "filesystem"; runs after build_file, since first_free_block defaults to the extents' end.
void build_filesystem(const J& doc, ScenarioSpec& spec, Errors& errors) {
  Filesystem& fs = spec.fs;
  uint64_t extents_end = 0;
  for (const Extent& e : spec.extents)
    extents_end = std::max(extents_end, e.disk_block + e.blocks);
  for (const FileSpec& f : spec.files) // one allocator for every file
    for (const Extent& e : f.extents)
      extents_end = std::max(extents_end, e.disk_block + e.blocks);
  fs.first_free_block = extents_end;
  const J* f = field(doc, "filesystem");
  if (!f) return;
  if (const J* v = field(*f, "model")) {
    const std::string m = v->get<std::string>();
    fs.model = m == "extent"  ? FsModel::extent
               : m == "ocfs2" ? FsModel::ocfs2
               : m == "vfat"  ? FsModel::vfat
                              : FsModel::ext2;
  }
  if (const J* v = field(*f, "max_blocks_per_map")) fs.max_blocks_per_map = as_u64(*v);
  if (const J* v = field(*f, "boundary_blocks")) {
    for (const auto& b : *v)
      fs.boundary_blocks.push_back(as_u64(b));
    if (fs.model == FsModel::ext2 || fs.model == FsModel::vfat)
      errors.add("/filesystem/boundary_blocks",
                 "boundary_blocks applies to the extent and ocfs2 models; the ext2 model sets "
                 "BH_Boundary itself at the end of each pointer array, vfat never does");
  }
  if (const J* v = field(*f, "defer_completion")) fs.defer_completion = v->get<bool>();
  if (const J* v = field(*f, "set_private")) fs.set_private = v->get<bool>();
  build_fs_errors(*f, fs, errors);
  if (const J* v = field(*f, "first_free_block")) {
    fs.first_free_block = as_u64(*v);
    check_first_free_block(spec, extents_end, errors);
  }
  if (const J* v = field(*f, "used_blocks")) build_used_blocks(*v, spec, errors);
  build_fs_modes(*f, fs, errors);
  check_vfat(f, spec, errors);
  check_files_fs(f, spec, extents_end, errors);
}

DiskErrorRule build_disk_error(const J& x, const std::string& at, const Geometry& g,
                               Errors& errors) {
  const unsigned __int128 disk_sectors =
      static_cast<unsigned __int128>(g.disk_blocks) * g.fs_block_size / 512;
  DiskErrorRule r;
  if (const J* v = field(x, "bio")) {
    r.kind = DiskErrorRule::Kind::bio_ordinal;
    r.bio = as_u64(*v);
  } else if (const J* v = field(x, "sectors")) {
    r.kind = DiskErrorRule::Kind::sectors;
    r.sector_first = as_u64((*v)[0]);
    r.sector_last = as_u64((*v)[1]);
    if (r.sector_first > r.sector_last)
      errors.add(at + "/sectors", "the first sector (" + std::to_string(r.sector_first) +
                                      ") must not exceed the last (" +
                                      std::to_string(r.sector_last) + ")");
    else if (r.sector_first >= disk_sectors)
      errors.add(at + "/sectors",
                 "sector " + std::to_string(r.sector_first) + " lies beyond the end of the disk (" +
                     std::to_string(static_cast<uint64_t>(disk_sectors)) + " sectors)");
  } else if (const J* v = field(x, "probability")) {
    r.kind = DiskErrorRule::Kind::probability;
    r.probability = v->get<double>();
  }
  if (const J* v = field(x, "status")) r.again = v->get<std::string>() == "AGAIN";
  return r;
}

void build_disk(const J& doc, ScenarioSpec& spec, Errors& errors) {
  Disk& disk = spec.disk;
  const J* d = field(doc, "disk");
  if (!d) return;
  if (const J* lat = field(*d, "latency_ns")) {
    if (const J* v = field(*lat, "min")) disk.latency_ns_min = as_u64(*v);
    if (const J* v = field(*lat, "max")) disk.latency_ns_max = as_u64(*v);
    if (disk.latency_ns_min > disk.latency_ns_max)
      errors.add("/disk/latency_ns", "min (" + std::to_string(disk.latency_ns_min) +
                                         ") must not exceed max (" +
                                         std::to_string(disk.latency_ns_max) + ")");
  }
  if (const J* v = field(*d, "queue_depth")) disk.queue_depth = static_cast<unsigned>(as_u64(*v));
  if (const J* v = field(*d, "stale_byte")) disk.stale_byte = static_cast<char>(as_byte(*v));
  if (const J* list = field(*d, "errors")) {
    for (size_t i = 0; i < list->size(); ++i)
      disk.errors.push_back(
          build_disk_error((*list)[i], "/disk/errors/" + std::to_string(i), spec.geometry, errors));
  }
}

// "mmap" of the buffer at `at`: a known file, the address and file offset page-aligned (mmap's
// EINVAL), and neither a fill nor unmapped pages (the file gives the bytes, every page is mapped).
void build_file_mapping(const J& x, const std::string& at, const ScenarioSpec& spec, Buffer& b,
                        Errors& errors) {
  const J* m = field(x, "mmap");
  if (!m) return;
  FileMapping fm;
  if (const J* v = field(*m, "file")) fm.file = v->get<std::string>();
  if (const J* v = field(*m, "offset")) fm.offset = as_u64(*v);
  if (const J* v = field(*m, "private")) fm.private_mapping = v->get<bool>();
  const uint64_t ps = spec.geometry.page_size;
  if (file_index(spec, fm.file) == kNoFile) {
    std::string names = qstr(kDefaultFileName);
    for (const FileSpec& f : spec.files)
      names += ", " + qstr(f.name);
    errors.add(at + "/mmap/file", "unknown file " + qstr(fm.file) + " (files: " + names + ")");
  }
  if (fm.offset % ps)
    errors.add(at + "/mmap/offset", "offset " + std::to_string(fm.offset) +
                                        " is not a multiple of the page size (" +
                                        std::to_string(ps) + "): mmap fails with EINVAL");
  if (b.address % ps)
    errors.add(at + "/address", "a buffer that maps a file starts on a page boundary (address " +
                                    std::to_string(b.address) + " is not a multiple of " +
                                    std::to_string(ps) + ")");
  if (field(x, "fill"))
    errors.add(at + "/fill", "a buffer that maps a file holds the file's bytes: no fill");
  if (field(x, "unmapped_pages"))
    errors.add(at + "/unmapped_pages",
               "a buffer that maps a file has every page mapped (a page past the file's end "
               "faults with SIGBUS by itself)");
  b.mmap = std::move(fm);
}

// One buffer at `at`: a unique name, unmapped pages inside it, no overlap with earlier buffers.
Buffer build_buffer(const J& x, const std::string& at, const ScenarioSpec& spec, size_t i,
                    BufferIndex& buffer_index, Errors& errors) {
  const Geometry& g = spec.geometry;
  Buffer b;
  b.name = x["name"].get<std::string>();
  b.address = as_u64(x["address"]);
  b.size = as_u64(x["size"]);
  if (const J* v = field(x, "fill")) b.fill = as_byte(*v);
  build_file_mapping(x, at, spec, b, errors);
  if (auto [it, fresh] = buffer_index.emplace(b.name, i); !fresh)
    errors.add(at + "/name", "buffer name " + qstr(b.name) + " is already used by /buffers/" +
                                 std::to_string(it->second));
  const uint64_t first_page = b.address / g.page_size;
  const uint64_t pages = (b.address + b.size - 1) / g.page_size - first_page + 1;
  if (const J* v = field(x, "unmapped_pages")) {
    for (size_t k = 0; k < v->size(); ++k) {
      const uint64_t p = as_u64((*v)[k]);
      if (p >= pages)
        errors.add(at + "/unmapped_pages/" + std::to_string(k),
                   "page " + std::to_string(p) + " is outside the buffer, which spans " +
                       std::to_string(pages) + (pages == 1 ? " page" : " pages") + " (indexes 0.." +
                       std::to_string(pages - 1) + ")");
      b.unmapped_pages.push_back(p);
    }
  }
  for (size_t j = 0; j < spec.buffers.size(); ++j) {
    const Buffer& o = spec.buffers[j];
    // A file mapping owns its pages whole: no other buffer may share one.
    const bool whole = b.mmap || o.mmap;
    const auto start_of = [&](const Buffer& y) {
      return whole ? y.address / g.page_size * g.page_size : y.address;
    };
    const auto end_of = [&](const Buffer& y) {
      return whole ? (y.address + y.size + g.page_size - 1) / g.page_size * g.page_size
                   : y.address + y.size;
    };
    if (start_of(b) < end_of(o) && start_of(o) < end_of(b))
      errors.add_lazy(at, [&] {
        return "bytes " + std::to_string(b.address) + ".." +
               std::to_string(b.address + b.size - 1) + " overlap /buffers/" + std::to_string(j) +
               " (" + qstr(o.name) + ", bytes " + std::to_string(o.address) + ".." +
               std::to_string(o.address + o.size - 1) + ")";
      });
  }
  return b;
}

// An unmapped page must not hold bytes of another buffer, or that buffer's fill would be lost.
void check_unmapped_pages(const ScenarioSpec& spec, Errors& errors) {
  const uint64_t page_size = spec.geometry.page_size;
  for (size_t i = 0; i < spec.buffers.size(); ++i) {
    const Buffer& b = spec.buffers[i];
    const uint64_t first_page = b.address / page_size;
    for (uint64_t p : b.unmapped_pages) {
      const uint64_t start = (first_page + p) * page_size, end = start + page_size;
      for (size_t j = 0; j < spec.buffers.size(); ++j) {
        const Buffer& o = spec.buffers[j];
        if (j != i && o.address < end && start < o.address + o.size)
          errors.add_lazy("/buffers/" + std::to_string(i) + "/unmapped_pages", [&] {
            return "page " + std::to_string(p) + " also holds bytes of /buffers/" +
                   std::to_string(j) + " (" + qstr(o.name) + "), which must stay mapped";
          });
      }
    }
  }
}

void build_buffers(const J& doc, ScenarioSpec& spec, BufferIndex& buffer_index, Errors& errors) {
  const J* list = field(doc, "buffers");
  if (!list) return;
  for (size_t i = 0; i < list->size(); ++i) {
    Buffer b =
        build_buffer((*list)[i], "/buffers/" + std::to_string(i), spec, i, buffer_index, errors);
    spec.buffers.push_back(std::move(b));
  }
  check_unmapped_pages(spec, errors);
}

// What an op's iovecs and expectations are checked against while its task is built.
// The top-level "expect": i_size, bios and file contents at the end.
void build_end_expect(const J& doc, ScenarioSpec& spec, Errors& errors) {
  const J* e = field(doc, "expect");
  if (!e) return;
  if (const J* v = field(*e, "bios")) spec.expect_bios = as_u64(*v);
  build_file_expect(*e, "/expect", spec, errors);
}

// A file's end expectations at `base` ("/expect", "/files/NAME/expect"): i_size and contents.
void build_file_expect(const J& e, const std::string& base, ScenarioSpec& spec, Errors& errors) {
  if (const J* v = field(e, "i_size")) spec.expect_i_size = int_set(*v, base + "/i_size");
  const J* list = field(e, "file");
  if (!list) return;
  for (size_t i = 0; i < list->size(); ++i) {
    const J& x = (*list)[i];
    const std::string at = base + "/file/" + std::to_string(i);
    FileExpect fe;
    fe.offset = as_u64(x["offset"]);
    if (auto r = runs_of(x["data"], at + "/data", errors)) fe.data = std::move(*r);
    if (fe.data.size() > kMaxFileBytes - fe.offset)
      errors.add(at, "the range ends beyond the largest file offset 2^62");
    else if (fe.data.size() > kMaxExpectBytes)
      errors.add(at + "/data", "byte runs hold " + std::to_string(fe.data.size()) +
                                   " bytes; at most 1 GiB can be compared");
    spec.expect_file.push_back(std::move(fe));
  }
}

// Builds the spec from a schema-valid document and checks what the schema cannot. The order
// matters: geometry first (everything is measured in it), the file's extents before the
// filesystem (first_free_block's default), buffers before tasks (iovecs name them).
ScenarioSpec build(const J& doc, const std::string& path, Errors& errors) {
  ScenarioSpec spec;
  build_top_level(doc, path, spec);
  build_explore_faults(doc, spec.explore_faults, errors);
  build_alloc_failures(doc, spec, errors);
  build_geometry(doc, spec.geometry);
  check_geometry(spec.geometry, errors);
  build_file(doc, spec, errors);
  build_files(doc, spec, errors);
  build_filesystem(doc, spec, errors);
  build_disk(doc, spec, errors);
  BufferIndex buffer_index;
  build_buffers(doc, spec, buffer_index, errors);
  build_tasks(doc, spec, buffer_index, errors);
  build_end_expect(doc, spec, errors);
  return spec;
}

} // namespace

ScenarioSpec parse_scenario(const std::string& json_text, const std::string& path) {
  const std::string file = path.empty() ? "<scenario>" : path;
  J doc;
  try {
    doc = read_json_document(json_text);
  } catch (const JsonReadError& e) {
    throw ScenarioError(file + ": " + e.what());
  }
  Errors errors(file);
  report_schema_errors(validate(scenario_schema(), doc), doc, errors);
  if (!errors.empty()) errors.raise();
  ScenarioSpec spec = build(doc, path, errors);
  if (!errors.empty()) errors.raise();
  return spec;
}

ScenarioSpec load_scenario(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ScenarioError(path + ": cannot read: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ScenarioError(path + ": cannot read: " + std::strerror(errno));
  return parse_scenario(text.str(), path);
}

std::vector<std::string> list_scenario_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json" && e.path().filename() != "schema.json")
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace diosim::scenario
