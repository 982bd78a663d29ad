// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/race_windows.hpp"

#include "sim/kernel/runtime.hpp"

namespace kern {

const char* race_window_name(RaceWindow w) {
  switch (w) {
  case RaceWindow::completion_while_mapping:
    return "completion-while-mapping";
  case RaceWindow::last_completion_before_drop:
    return "last-completion-before-drop";
  case RaceWindow::completions_contend:
    return "completions-contend";
  case RaceWindow::deferred_to_workqueue:
    return "deferred-to-workqueue";
  case RaceWindow::wake_while_running:
    return "wake-while-running";
  case RaceWindow::count:
    break;
  }
  return "?";
}

void race_window_hit(RaceWindow w) {
  K().race_window_bits |= 1u << static_cast<unsigned>(w);
}

} // namespace kern
