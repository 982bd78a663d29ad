// SPDX-License-Identifier: GPL-2.0-only
// Supervised worker processes, fatal-signal reports and the hang watchdog (see
// crash_guard.hpp for the invariants).
#include "model/check/crash_guard.hpp"

#include "sim/engine/fiber_stack.hpp"
#include "sim/kernel/runtime.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <vector>

namespace diosim::model {
namespace {

thread_local const CrashContext* g_crash_context = nullptr;

constexpr size_t kTokenCapacity = 60000;
constexpr int kCrashExitCode = 86; // a worker that wrote a report exits with this
constexpr int kTicksPerHang = 4;   // watchdog ticks without progress that make a hang

// The page a worker's signal handlers write and the parent reads. Plain fields: written by one
// process while the other waits for it to die or reads only the heartbeat.
struct SharedReport {
  volatile uint64_t served = 0;    // requests the current worker finished
  volatile uint64_t heartbeat = 0; // bumped by every watchdog tick and finished request
  volatile uint64_t progress = 0;  // report_progress() of the request being served
  volatile int state = 0;          // 0 nothing, 1 report without token, 2 complete report
  volatile int last_line = 0;      // src_line seen by the latest watchdog tick
  int src_line = 0;
  int run_known = 0;
  int token_truncated = 0;
  uint32_t preemptions = 0;
  uint64_t seed = 0, step = 0;
  char kind[32]{};
  char context[64]{};
  char detail[192]{};
  char token[kTokenCapacity]{};
};

// --- inside a worker -------------------------------------------------------------------------

SharedReport* g_report = nullptr;
double g_hang_seconds = 10;
struct WatchState {
  const kern::Kernel* kernel = nullptr;
  uint64_t step = 0, served = 0;
  int still = 0;
} g_watch;
alignas(16) char g_alt_stack[256 * 1024];

void copy_text(char* dst, size_t cap, const char* src) {
  size_t i = 0;
  for (; src && src[i] && i + 1 < cap; ++i)
    dst[i] = src[i];
  dst[i] = '\0';
}

// Appends the decimal or hex form of v to dst (async-signal-safe).
void append_number(char* dst, size_t cap, uint64_t v, bool hex) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % (hex ? 16 : 10)];
    v /= hex ? 16 : 10;
  } while (v);
  size_t at = strlen(dst);
  if (hex && at + 2 < cap) dst[at++] = '0', dst[at++] = 'x';
  while (n > 0 && at + 1 < cap)
    dst[at++] = digits[--n];
  dst[at] = '\0';
}

void append_text(char* dst, size_t cap, const char* src) {
  const size_t at = strlen(dst);
  copy_text(dst + at, cap - at, src);
}

const char* signal_name(int sig) {
  switch (sig) {
  case SIGSEGV:
    return "SIGSEGV";
  case SIGBUS:
    return "SIGBUS";
  case SIGFPE:
    return "SIGFPE";
  case SIGILL:
    return "SIGILL";
  case SIGABRT:
    return "SIGABRT";
  case SIGKILL:
    return "SIGKILL";
  case SIGALRM:
    return "SIGALRM";
  default:
    return nullptr;
  }
}

// The running context's line, name and step, and the run's seed: reads only.
void record_run_state(SharedReport* r) {
  const kern::Kernel* k = kern::g_kernel;
  const engine::Context* c = k ? k->sched.current() : nullptr;
  r->src_line = c ? c->src_line : 0;
  copy_text(r->context, sizeof r->context, c ? c->name.c_str() : "");
  r->step = k ? k->sched.step() : 0;
  const CrashContext* cc = g_crash_context;
  r->run_known = cc != nullptr;
  r->seed = cc ? cc->seed : 0;
  r->preemptions = cc && cc->preemptions ? *cc->preemptions : 0;
}

// Not async-signal-safe (to_string allocates); see invariant 4 of crash_guard.hpp.
void record_token(SharedReport* r) {
  const CrashContext* cc = g_crash_context;
  if (!cc) return;
  alarm(2); // a deadlock in malloc ends here, leaving the report of state 1
  const std::string token = cc->recorder       ? cc->recorder->token().to_string()
                            : cc->replay       ? cc->replay->to_string()
                            : cc->token_so_far ? (*cc->token_so_far)().to_string()
                                               : std::string();
  r->token_truncated = token.size() >= kTokenCapacity;
  copy_text(r->token, kTokenCapacity, token.c_str());
}

[[noreturn]] void write_report_and_exit(const char* kind, const char* detail) {
  SharedReport* r = g_report;
  record_run_state(r);
  copy_text(r->kind, sizeof r->kind, kind);
  if (detail != r->detail) copy_text(r->detail, sizeof r->detail, detail);
  r->state = 1;
  record_token(r);
  r->state = 2;
  _exit(kCrashExitCode);
}

void on_fatal_signal(int sig, siginfo_t* info, void*) {
  SharedReport* r = g_report;
  const kern::Kernel* k = kern::g_kernel;
  const engine::Context* c = k ? k->sched.current() : nullptr;
  r->detail[0] = '\0';
  if (sig == SIGSEGV && c && engine::in_stack_guard(info->si_addr, c->stack_bottom)) {
    append_text(r->detail, sizeof r->detail, "context ");
    append_text(r->detail, sizeof r->detail, c->name.c_str());
    append_text(r->detail, sizeof r->detail, " overflowed its fiber stack (fault at ");
    append_number(r->detail, sizeof r->detail, reinterpret_cast<uintptr_t>(info->si_addr), true);
    append_text(r->detail, sizeof r->detail, ", in the guard region)");
    write_report_and_exit("stack-overflow", r->detail);
  }
  char kind[32] = "abort";
  append_text(r->detail, sizeof r->detail, "the simulated code died by ");
  append_text(r->detail, sizeof r->detail, signal_name(sig));
  if (sig != SIGABRT) {
    copy_text(kind, sizeof kind, "crash:");
    append_text(kind, sizeof kind, signal_name(sig));
    append_text(r->detail, sizeof r->detail, " (fault address ");
    append_number(r->detail, sizeof r->detail, reinterpret_cast<uintptr_t>(info->si_addr), true);
    append_text(r->detail, sizeof r->detail, ")");
  } else {
    append_text(r->detail, sizeof r->detail, " (abort())");
  }
  write_report_and_exit(kind, r->detail);
}

// Every ITIMER_PROF tick: progress is a new scheduling step, a new run, a finished request, or
// no run at all.
void on_watchdog_tick(int) {
  SharedReport* r = g_report;
  const kern::Kernel* k = kern::g_kernel;
  const engine::Context* c = k ? k->sched.current() : nullptr;
  r->heartbeat = r->heartbeat + 1;
  r->last_line = c ? c->src_line : 0;
  const uint64_t step = k ? k->sched.step() : 0;
  const uint64_t served = r->served;
  // Only a run can hang: time outside one (the reference model, shrinking) is diosim's own work.
  if (!k || k != g_watch.kernel || step != g_watch.step || served != g_watch.served) {
    g_watch = {k, step, served, 0};
    return;
  }
  if (++g_watch.still < kTicksPerHang) return;
  copy_text(r->detail, sizeof r->detail, "no scheduling step for ");
  append_number(r->detail, sizeof r->detail, static_cast<uint64_t>(g_hang_seconds), false);
  append_text(r->detail, sizeof r->detail,
              " s of CPU time: an infinite loop without a yield point (watchdog, --hang-seconds)");
  write_report_and_exit("hang", r->detail);
}

void install_worker_handlers(SharedReport* report, const GuardOptions& options) {
  g_report = report;
  g_hang_seconds = options.hang_seconds;
  g_watch = {};
  stack_t alt{};
  alt.ss_sp = g_alt_stack;
  alt.ss_size = sizeof g_alt_stack;
  sigaltstack(&alt, nullptr);
  struct sigaction fatal {};
  fatal.sa_sigaction = on_fatal_signal;
  fatal.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&fatal.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    sigaction(sig, &fatal, nullptr);
  struct sigaction tick {};
  tick.sa_handler = on_watchdog_tick;
  tick.sa_flags = SA_RESTART | SA_ONSTACK;
  sigemptyset(&tick.sa_mask);
  sigaction(SIGPROF, &tick, nullptr);
  const double period = std::max(0.01, options.hang_seconds / kTicksPerHang);
  itimerval timer{};
  timer.it_interval.tv_sec = static_cast<time_t>(period);
  timer.it_interval.tv_usec =
      static_cast<suseconds_t>((period - static_cast<double>(timer.it_interval.tv_sec)) * 1e6);
  timer.it_value = timer.it_interval;
  setitimer(ITIMER_PROF, &timer, nullptr);
}

// --- pipes -----------------------------------------------------------------------------------

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_message(int fd, const std::string& bytes) {
  const uint64_t size = bytes.size();
  return write_all(fd, reinterpret_cast<const char*>(&size), sizeof size) &&
         write_all(fd, bytes.data(), bytes.size());
}

bool read_message(int fd, std::string& bytes) {
  uint64_t size = 0;
  if (!read_all(fd, reinterpret_cast<char*>(&size), sizeof size)) return false;
  bytes.resize(size);
  return read_all(fd, bytes.data(), size);
}

// --- the parent's view of a worker -----------------------------------------------------------

using Clock = std::chrono::steady_clock;

struct Worker {
  pid_t pid = -1;
  int cmd_fd = -1, reply_fd = -1;
  SharedReport* shared = nullptr; // mapped once, reused by every process of this slot
  std::deque<WorkItem> queued;    // sent, reply not yet read (the first one is being served)
  uint64_t heartbeat_seen = 0;
  Clock::time_point heartbeat_at;
};

[[noreturn]] void worker_main(Worker& self,
                              const std::function<std::string(const std::string&)>& handler,
                              const GuardOptions& options) {
  install_worker_handlers(self.shared, options);
  std::string request;
  while (read_message(self.cmd_fd, request)) {
    const std::string reply = handler(request);
    self.shared->progress = 0; // counted by the reply from now on
    std::fflush(stdout);
    std::fflush(stderr);
    if (!write_message(self.reply_fd, reply)) break;
    self.shared->served = self.shared->served + 1;
    self.shared->heartbeat = self.shared->heartbeat + 1;
  }
  _exit(0);
}

void close_fds(Worker& w) {
  if (w.cmd_fd >= 0) close(w.cmd_fd);
  if (w.reply_fd >= 0) close(w.reply_fd);
  w.cmd_fd = w.reply_fd = -1;
}

void start_worker(std::vector<Worker>& pool, size_t slot,
                  const std::function<std::string(const std::string&)>& handler,
                  const GuardOptions& options) {
  Worker& w = pool[slot];
  if (!w.shared) {
    void* page = mmap(nullptr, sizeof(SharedReport), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw std::runtime_error("crash guard: mmap failed");
    w.shared = new (page) SharedReport();
  }
  w.shared->state = 0;
  w.shared->served = 0;
  w.shared->progress = 0;
  int cmd[2], reply[2];
  if (pipe(cmd) != 0 || pipe(reply) != 0) throw std::runtime_error("crash guard: pipe failed");
  std::fflush(nullptr); // the child must not write the parent's buffered output again
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("crash guard: fork failed");
  if (pid == 0) {
    for (size_t other = 0; other < pool.size(); ++other)
      if (other != slot) close_fds(pool[other]);
    close(cmd[1]);
    close(reply[0]);
    w.cmd_fd = cmd[0];
    w.reply_fd = reply[1];
    worker_main(w, handler, options);
  }
  close(cmd[0]);
  close(reply[1]);
  w.pid = pid;
  w.cmd_fd = cmd[1];
  w.reply_fd = reply[0];
}

CrashReport report_from(const SharedReport& s, int status, bool killed_by_watchdog) {
  CrashReport r;
  r.progress = s.progress;
  if (s.state >= 1) {
    r.kind = s.kind;
    r.src_line = s.src_line;
    r.context = s.context;
    r.seed = s.seed;
    r.step = s.step;
    r.preemptions = s.preemptions;
    r.run_known = s.run_known != 0;
    r.detail = s.detail;
    if (s.state == 2) r.schedule = s.token;
    r.schedule_truncated = s.token_truncated != 0;
    if (s.state == 1) r.detail += " (the schedule token could not be recorded)";
    return r;
  }
  r.src_line = s.last_line;
  if (killed_by_watchdog) {
    r.kind = "hang";
    r.detail =
        "the worker stopped responding without using CPU (killed by the wall-clock watchdog)";
  } else if (WIFSIGNALED(status)) {
    const char* name = signal_name(WTERMSIG(status));
    r.kind =
        name ? std::string("crash:") + name : "crash:signal-" + std::to_string(WTERMSIG(status));
    r.detail = "the worker died by signal " + std::to_string(WTERMSIG(status)) +
               " before it could write a report";
  } else {
    r.kind = "crash:exit";
    r.detail = "the worker exited with status " + std::to_string(WEXITSTATUS(status)) +
               " while serving a request";
  }
  return r;
}

// Reaps a worker that died (or is killed now) and returns what happened to its request.
CrashReport bury_worker(Worker& w, bool kill_it) {
  if (kill_it) kill(w.pid, SIGKILL);
  int status = 0;
  while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  close_fds(w);
  w.pid = -1;
  return report_from(*w.shared, status, kill_it);
}

void stop_workers(std::vector<Worker>& pool) {
  for (Worker& w : pool) {
    if (w.pid > 0) {
      close_fds(w); // the worker sees end of input and exits
      int status = 0;
      while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (w.shared) munmap(w.shared, sizeof(SharedReport));
  }
}

} // namespace

CrashContextScope::CrashContextScope(const CrashContext& context) : previous_(g_crash_context) {
  g_crash_context = &context;
}
CrashContextScope::~CrashContextScope() {
  g_crash_context = previous_;
}

uint64_t ByteReader::u64() {
  uint64_t v = 0;
  if (bytes_.size() - at_ < sizeof v) throw std::runtime_error("crash guard: truncated reply");
  std::memcpy(&v, bytes_.data() + at_, sizeof v);
  at_ += sizeof v;
  return v;
}

std::string ByteReader::str() {
  const uint64_t n = u64();
  if (bytes_.size() - at_ < n) throw std::runtime_error("crash guard: truncated reply");
  std::string s = bytes_.substr(at_, n);
  at_ += n;
  return s;
}

namespace {

constexpr size_t kPipelineDepth = 8; // requests queued per worker, so it never waits for us

// The work queue as the workers see it: requests of a dead worker's queue come back first.
struct Feed {
  const std::function<std::optional<WorkItem>()>& next_item;
  std::deque<WorkItem> retry;
  std::optional<WorkItem> take() {
    if (!retry.empty()) {
      WorkItem item = std::move(retry.front());
      retry.pop_front();
      return item;
    }
    return next_item();
  }
};

// Tops up every worker's queue; a worker that died idle is replaced once.
void hand_out(std::vector<Worker>& pool,
              const std::function<std::string(const std::string&)>& handler, Feed& feed,
              const GuardOptions& options) {
  for (size_t slot = 0; slot < pool.size(); ++slot) {
    Worker& w = pool[slot];
    while (w.queued.size() < kPipelineDepth) {
      std::optional<WorkItem> item = feed.take();
      if (!item) return;
      if (w.pid < 0) start_worker(pool, slot, handler, options);
      if (!write_message(w.cmd_fd, item->request)) {
        feed.retry.push_front(std::move(*item));
        if (!w.queued.empty()) break; // collect() sees the death and reports the first one
        bury_worker(w, true);
        continue;
      }
      if (w.queued.empty()) {
        w.heartbeat_seen = w.shared->heartbeat;
        w.heartbeat_at = Clock::now();
      }
      w.queued.push_back(std::move(*item));
    }
  }
}

// The first queued request of a dead worker gets `report`; the others go back to the feed.
void worker_died(Worker& w, CrashReport report, Feed& feed,
                 const std::function<void(uint64_t, WorkOutcome&&)>& on_done) {
  const uint64_t id = w.queued.front().id;
  w.queued.pop_front();
  while (!w.queued.empty()) {
    feed.retry.push_front(std::move(w.queued.back()));
    w.queued.pop_back();
  }
  on_done(id, WorkOutcome(std::move(report)));
}

// Collects the reply (or the death) of every busy worker that is ready, and kills stalled ones.
void collect(std::vector<Worker>& pool, Feed& feed,
             const std::function<void(uint64_t, WorkOutcome&&)>& on_done,
             const GuardOptions& options) {
  std::vector<pollfd> fds;
  std::vector<Worker*> owners;
  for (Worker& w : pool)
    if (!w.queued.empty()) {
      fds.push_back({w.reply_fd, POLLIN, 0});
      owners.push_back(&w);
    }
  if (fds.empty()) return;
  if (poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR)
    throw std::runtime_error("crash guard: poll failed");
  const auto backstop = std::chrono::duration<double>(std::max(30.0, 3 * options.hang_seconds));
  for (size_t i = 0; i < fds.size(); ++i) {
    Worker& w = *owners[i];
    if (fds[i].revents) {
      std::string reply;
      if (!read_message(w.reply_fd, reply)) {
        worker_died(w, bury_worker(w, false), feed, on_done);
        continue;
      }
      const uint64_t id = w.queued.front().id;
      w.queued.pop_front();
      on_done(id, WorkOutcome(std::move(reply)));
      w.heartbeat_seen = w.shared->heartbeat;
      w.heartbeat_at = Clock::now();
    } else if (w.shared->heartbeat != w.heartbeat_seen) {
      w.heartbeat_seen = w.shared->heartbeat;
      w.heartbeat_at = Clock::now();
    } else if (Clock::now() - w.heartbeat_at > backstop) {
      worker_died(w, bury_worker(w, true), feed, on_done);
    }
  }
}

uint64_t in_flight_progress(const std::vector<Worker>& pool) {
  uint64_t sum = 0;
  for (const Worker& w : pool)
    if (!w.queued.empty() && w.shared) sum += w.shared->progress;
  return sum;
}

// SIGPIPE ignored while workers run: a write to a dead worker fails with EPIPE instead.
class IgnoreSigpipe {
public:
  IgnoreSigpipe() { previous_ = signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { signal(SIGPIPE, previous_); }

private:
  sighandler_t previous_;
};

} // namespace

void run_supervised(unsigned workers, const std::function<std::string(const std::string&)>& handler,
                    const std::function<std::optional<WorkItem>()>& next_item,
                    const std::function<void(uint64_t, WorkOutcome&&)>& on_done,
                    const std::function<void(uint64_t)>& on_tick, const GuardOptions& options) {
  IgnoreSigpipe sigpipe;
  std::vector<Worker> pool(std::max(1u, workers));
  Feed feed{next_item, {}};
  try {
    for (;;) {
      hand_out(pool, handler, feed, options); // stops at the first "nothing now"
      if (std::all_of(pool.begin(), pool.end(), [](const Worker& w) { return w.queued.empty(); }))
        break;
      collect(pool, feed, on_done, options);
      if (on_tick) on_tick(in_flight_progress(pool));
    }
  } catch (...) {
    stop_workers(pool);
    throw;
  }
  stop_workers(pool);
}

std::variant<int, CrashReport> run_isolated(const std::function<int()>& body,
                                            const GuardOptions& options) {
  std::variant<int, CrashReport> result = 3;
  bool given = false;
  run_supervised(
      1,
      [&](const std::string&) {
        int code = 3;
        try {
          code = body();
        } catch (const std::exception& e) {
          std::fprintf(stderr, "diosim: [internal error] %s\n", e.what());
        }
        ByteWriter w;
        w.u64(static_cast<uint64_t>(code));
        return w.bytes;
      },
      [&]() -> std::optional<WorkItem> {
        if (given) return std::nullopt;
        given = true;
        return WorkItem{0, ""};
      },
      [&](uint64_t, WorkOutcome&& outcome) {
        if (auto* reply = std::get_if<std::string>(&outcome)) {
          ByteReader r(*reply);
          result = static_cast<int>(r.u64());
        } else {
          result = std::get<CrashReport>(std::move(outcome));
        }
      },
      {}, options);
  return result;
}

void report_progress(uint64_t done) {
  if (g_report) g_report->progress = done;
}

std::string describe(const CrashReport& r) {
  std::string s = r.kind;
  if (r.src_line) s += " at fs/direct-io.c:" + std::to_string(r.src_line);
  if (!r.context.empty()) s += " in " + r.context;
  if (r.run_known) s += " (step " + std::to_string(r.step) + ")";
  return s + ": " + r.detail;
}

} // namespace diosim::model
