// SPDX-License-Identifier: GPL-2.0-only
// Reference model: operations on an fd without O_DIRECT (R-BUFFERED-OP), readahead's reach
// (R-READAHEAD) and which fd mode each op has (R-FCNTL). Stated in docs/SEMANTICS.md.
//
// A buffered read copies from the page cache (pages read in from the file as it is), up to
// i_size; a buffered write copies into cache pages and leaves them dirty; only RWF_DSYNC writes
// them back (generic_write_sync). Readahead instantiates clean pages equal to the disk: the
// model does not hold them (a page it reads later comes from the file, which is the same), but
// widens the read's page range by the largest window, so that the concurrency rules treat a
// direct op anywhere readahead can reach as interacting through the cache (R-CONC-UNMODELLED).
#include "model/reference/reference_detail.hpp"

#include <map>
#include <set>

namespace diosim::model::refm {

namespace {
// VM_READAHEAD_PAGES: 128 KiB (mm/readahead.c, include/linux/mm.h); a window never exceeds it,
// and an async window starts at most that far past the page that triggered it.
constexpr uint64_t kReadaheadBytes = 131072;
} // namespace

// R-FCNTL: an op's fd has O_DIRECT as the task opened it, changed by the task's own fcntls
// before it. When another task sharing the fd has an fcntl, the mode is unknown (tainted).
void Model::resolve_fd_modes() {
  std::map<std::string, std::set<size_t>> togglers; // fd -> tasks with an fcntl on it
  for (size_t t = 0; t < spec.tasks.size(); ++t)
    for (const scenario::Operation& o : spec.tasks[t].ops)
      if (o.kind == scenario::OpKind::fcntl) togglers[spec.tasks[t].fd_name()].insert(t);
  std::vector<bool> direct(spec.tasks.size());
  for (size_t t = 0; t < spec.tasks.size(); ++t)
    direct[t] = spec.tasks[t].o_direct;
  for (OpInfo& info : ops) {
    const scenario::Task& task = spec.tasks[info.task];
    if (info.fcntl) {
      direct[info.task] = info.op->o_direct;
      continue;
    }
    if (info.reap) continue;
    const std::set<size_t>& who = togglers[task.fd_name()];
    info.direct_unknown = !who.empty() && (who.size() > 1 || !who.count(info.task));
    info.buffered = !direct[info.task] || scenario::is_mmap_op(info.op->kind);
    if (scenario::is_mmap_op(info.op->kind)) info.direct_unknown = false; // no fd mode involved
  }
}

// R-BUFFERED-OP (read): generic_file_read_iter without IOCB_DIRECT is filemap_read from the
// start of the request: no flush, no lock; 0 at or past i_size.
void Model::exec_buffered_read(const OpInfo& op, State& s, OpRecord& r, Results& out) {
  r.rules.insert("R-BUFFERED-OP");
  r.rules.insert("R-READAHEAD");
  r.pages.end += kReadaheadBytes / g.ps * g.ps + g.ps;
  r.isize_dependent = true; // where the copy stops is i_size's
  out.done(filemap_read(op, s, 0, 0, r), false);
}

// R-BUFFERED-OP (write): generic_perform_write from the start of the request under the inode
// lock; pages stay dirty; RWF_DSYNC then writes the range back (generic_write_sync ->
// generic_buffers_fsync), returning -EIO when a writeback fails (R-WRITEBACK-ERROR).
void Model::exec_buffered_write(const OpInfo& op, State& s, OpRecord& r, Results& out) {
  r.rules.insert("R-BUFFERED-OP");
  int64_t ret = buffered_write(op, s, 0, r);
  if (ret > 0 && dsync(op, s) &&
      write_and_wait(s.f, static_cast<int64_t>(op.offset),
                     static_cast<int64_t>(op.offset) + ret - 1, r) < 0)
    ret = kEIO;
  out.done(ret, false);
}

} // namespace diosim::model::refm
