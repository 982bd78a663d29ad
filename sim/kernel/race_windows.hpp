// SPDX-License-Identifier: GPL-2.0-only
// Race windows (FoundationDB CODE_PROBE style): named interleavings of the dio algorithm that a
// campaign should reach, each detected where the shim can see it. A run records which windows
// it hit; explore and coverage count runs per window, so a search that never opens a window
// says so.
//
// Windows (fs/direct-io.c lines):
//   completion-while-mapping     a bio completes while its submitter is still in do_direct_IO
//                                (892-1045)
//   last-completion-before-drop  drop_refcount (1064) of an AIO takes refcount to 0: every bio
//                                completed before the submitter gave up its reference
//   completions-contend          two completions on two CPUs contend for bio_lock (340/383)
//   deferred-to-workqueue        the last AIO completion defers dio_complete to the workqueue (360)
//   wake-while-running           a completion wakes a waiter that is not asleep yet (342/384)
#pragma once

#include <cstdint>

namespace kern {

enum class RaceWindow : uint8_t {
  completion_while_mapping,
  last_completion_before_drop,
  completions_contend,
  deferred_to_workqueue,
  wake_while_running,
  count
};

const char* race_window_name(RaceWindow w);
void race_window_hit(RaceWindow w); // records it in the running Kernel

} // namespace kern
