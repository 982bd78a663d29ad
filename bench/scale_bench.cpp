// SPDX-License-Identifier: GPL-2.0-only
// diosim-bench-scale: how time and memory follow the I/O (issue 8), printed, never asserted.
//
//   1. Big I/O: one O_DIRECT pwrite of N bytes from a buffer, then a pread of them back into
//      it, for N = 64 MiB, 256 MiB, 1 GiB; with and without the reference check. Each size runs
//      in a fresh child process so its peak RSS (VmHWM) is its own. Prints seconds, peak RSS,
//      bytes of RSS per byte of I/O (N), and time(1 GiB) / time(64 MiB) (linear: about 16).
//   2. Many tasks: 250, 500, 1000 tasks, each one aligned 4 KiB pwrite over a mapped block
//      below i_size, and the same as extending writes into a hole past i_size; seconds and steps
//      (the inode lock's wake-all makes steps grow as tasks^2: that is the modelled kernel).
//   3. Far offsets, with the reference check: a 4 KiB pwrite at 1 TiB, a 4 KiB read of a file
//      whose i_size is 1 GiB; seconds and peak RSS.
// `diosim-bench-scale big` runs part 1 only, `diosim-bench-scale tasks` part 2 only, and
// `diosim-bench-scale tasks N [extending]` one N-task run in this process (for callgrind).
// The scenarios are built in code (ScenarioSpec).
#include "model/check/session.hpp"
#include "sim/engine/chooser.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock; // benchmarks only: never part of a simulated run
using namespace diosim;

scenario::ScenarioSpec big_io(uint64_t bytes) {
  scenario::ScenarioSpec spec;
  spec.name = "big-io";
  spec.geometry.disk_blocks = bytes / 4096 + bytes / 4096 / 1024 + 64; // + indirect blocks
  spec.buffers.push_back({"buf", uint64_t{1} << 32, bytes, 'W', {}});
  scenario::Task t;
  t.name = "io";
  scenario::Operation w;
  w.kind = scenario::OpKind::pwrite;
  w.iov.push_back({"buf", 0, bytes});
  scenario::Operation r = w;
  r.kind = scenario::OpKind::pread;
  t.ops = {w, r};
  spec.tasks.push_back(t);
  return spec;
}

scenario::ScenarioSpec many_tasks(size_t n, bool extending = false) {
  scenario::ScenarioSpec spec;
  spec.name = "many-tasks";
  spec.geometry.disk_blocks = 4 * n;
  if (!extending) {
    spec.i_size = static_cast<int64_t>(n * 4096); // overwrites of mapped blocks
    spec.extents.push_back({0, 0, n, std::nullopt});
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string b = "b" + std::to_string(i);
    spec.buffers.push_back({b, (uint64_t{1} << 20) + i * 8192, 4096, 'W', {}});
    scenario::Task t;
    t.name = "t" + std::to_string(i);
    scenario::Operation w;
    w.kind = scenario::OpKind::pwrite;
    w.offset = i * 4096;
    w.iov.push_back({b, 0, 4096});
    t.ops.push_back(w);
    spec.tasks.push_back(t);
  }
  return spec;
}

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      uint64_t kib = 0;
      in >> kib;
      return kib * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

struct Figures {
  double seconds = 0, cpu_seconds = 0; // wall, and user + system CPU (the machine may be busy)
  uint64_t peak_rss = 0, steps = 0;
  int status = 0; // 0 ok, 1 the run failed, 2 the child died (e.g. out of memory)
};

// Builds the session and runs one execution in a child process; session set-up (the reference
// model) counts in the time, as it does for a user's `diosim run`.
Figures in_child(const scenario::ScenarioSpec& spec, bool check) {
  int fd[2];
  if (pipe(fd) != 0) return {0, 0, 0, 2};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    Figures f;
    const Clock::time_point t0 = Clock::now();
    model::Session session(spec, check);
    engine::RandomChooser chooser(1);
    const model::ExecSummary s = session.execute(chooser);
    f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    f.peak_rss = peak_rss_bytes();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    f.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    f.steps = s.steps;
    f.status = s.internal_error || s.violation || !s.failed_expectations.empty() ? 1 : 0;
    const ssize_t n = write(fd[1], &f, sizeof f);
    _exit(n == sizeof f ? 0 : 1);
  }
  close(fd[1]);
  Figures f;
  if (read(fd[0], &f, sizeof f) != sizeof f) f.status = 2;
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return f;
}

const char* status_text(int status) {
  return status == 0 ? "" : status == 1 ? "  (run failed)" : "  (child died)";
}

void big_io_figures(bool check) {
  std::printf("\nbig O_DIRECT write then read, %s the reference check (fresh process each)\n",
              check ? "with" : "without");
  std::printf("  %10s %9s %9s %12s %14s\n", "size", "seconds", "CPU s", "peak RSS MB",
              "RSS B per I/O B");
  double t64 = 0, t1g = 0, c64 = 0, c1g = 0;
  for (uint64_t mib : {64, 256, 1024}) {
    const uint64_t bytes = mib << 20;
    const Figures f = in_child(big_io(bytes), check);
    std::printf("  %6llu MiB %9.2f %9.2f %12.0f %14.2f%s\n", static_cast<unsigned long long>(mib),
                f.seconds, f.cpu_seconds, static_cast<double>(f.peak_rss) / 1e6,
                static_cast<double>(f.peak_rss) / static_cast<double>(bytes),
                status_text(f.status));
    if (mib == 64) t64 = f.seconds, c64 = f.cpu_seconds;
    if (mib == 1024) t1g = f.seconds, c1g = f.cpu_seconds;
  }
  if (t64 > 0 && c64 > 0)
    std::printf("  time(1 GiB) / time(64 MiB) = %.1f, CPU %.1f (linear: 16)\n", t1g / t64,
                c1g / c64);
}

void many_task_figures(bool extending) {
  std::printf("\nmany tasks, one aligned 4 KiB pwrite each (%s), with the reference check\n",
              extending ? "extending, into a hole past i_size" : "overwrites of mapped blocks");
  std::printf("  %6s %9s %9s %10s\n", "tasks", "seconds", "CPU s", "steps");
  double first = 0, last = 0;
  for (size_t n : {250, 500, 1000}) {
    const Figures f = in_child(many_tasks(n, extending), true);
    std::printf("  %6zu %9.2f %9.2f %10llu%s\n", n, f.seconds, f.cpu_seconds,
                static_cast<unsigned long long>(f.steps), status_text(f.status));
    if (n == 250) first = f.seconds;
    last = f.seconds;
  }
  if (first > 0)
    std::printf("  time(1000) / time(250) = %.1f (steps grow as tasks^2: 16)\n", last / first);
}

scenario::ScenarioSpec far_offset(bool read_of_big_file) {
  constexpr uint64_t kTiB = uint64_t{1} << 40, kGiB = uint64_t{1} << 30;
  scenario::ScenarioSpec spec;
  spec.name = "far-offset";
  spec.buffers.push_back({"buf", uint64_t{1} << 20, 4096, 'W', {}});
  scenario::Operation op;
  op.kind = read_of_big_file ? scenario::OpKind::pread : scenario::OpKind::pwrite;
  op.offset = read_of_big_file ? kGiB - 4096 : kTiB;
  op.iov.push_back({"buf", 0, 4096});
  if (read_of_big_file) {
    spec.i_size = static_cast<int64_t>(kGiB);
    spec.extents.push_back(
        {kGiB / 4096 - 1, 10, 1, scenario::ByteRuns{{{2048, 'A'}, {2048, 'B'}}}});
  }
  scenario::Task t;
  t.name = "io";
  t.ops = {op};
  spec.tasks.push_back(t);
  return spec;
}

void far_offset_figures() {
  std::printf("\nfar offsets, with the reference check (fresh process each)\n");
  std::printf("  %-34s %9s %12s\n", "run", "seconds", "peak RSS MB");
  for (bool read : {false, true}) {
    const Figures f = in_child(far_offset(read), true);
    std::printf("  %-34s %9.3f %12.0f%s\n",
                read ? "4 KiB read, i_size 1 GiB" : "4 KiB pwrite at 1 TiB", f.seconds,
                static_cast<double>(f.peak_rss) / 1e6, status_text(f.status));
  }
}

// One N-task run in this process, for a profiler: prints its steps and whether it failed.
int fixed_tasks(size_t n, bool extending) {
  const std::clock_t t0 = std::clock(); // CPU time: the split between set-up and the run
  model::Session session(many_tasks(n, extending), true);
  const std::clock_t t1 = std::clock();
  engine::RandomChooser chooser(1);
  const model::ExecSummary s = session.execute(chooser);
  const std::clock_t t2 = std::clock();
  const bool failed = s.internal_error || s.violation || !s.failed_expectations.empty();
  std::printf("%zu tasks: %llu steps%s; CPU s: session set-up (reference model) %.2f, run %.2f\n",
              n, static_cast<unsigned long long>(s.steps), failed ? ", failed" : "",
              static_cast<double>(t1 - t0) / CLOCKS_PER_SEC,
              static_cast<double>(t2 - t1) / CLOCKS_PER_SEC);
  return failed ? 1 : 0;
}

} // namespace

// `diosim-bench-scale big` prints part 1 only; `tasks` part 2 only; `tasks N [extending]` runs
// one N-task execution in this process.
int main(int argc, char** argv) {
  const std::string part = argc > 1 ? argv[1] : "";
  if (part == "tasks" && argc > 2)
    return fixed_tasks(std::stoul(argv[2]), argc > 3 && std::string(argv[3]) == "extending");
  if (part == "tasks") {
    many_task_figures(false);
    many_task_figures(true);
    return 0;
  }
  big_io_figures(false);
  big_io_figures(true);
  if (argc > 1 && std::string(argv[1]) == "big") return 0;
  many_task_figures(false);
  many_task_figures(true);
  far_offset_figures();
  return 0;
}
