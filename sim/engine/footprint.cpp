// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/footprint.hpp"

namespace diosim::engine {

const char* object_kind_name(ObjectKind kind) {
  switch (kind) {
  case ObjectKind::none:
    return "none";
  case ObjectKind::lock:
    return "lock";
  case ObjectKind::dio:
    return "dio";
  case ObjectKind::field:
    return "field";
  case ObjectKind::bio:
    return "bio";
  case ObjectKind::page:
    return "page";
  case ObjectKind::waitq:
    return "waitq";
  case ObjectKind::workqueue:
    return "workqueue";
  case ObjectKind::inode:
    return "inode";
  case ObjectKind::disk:
    return "disk";
  case ObjectKind::user_page:
    return "user_page";
  case ObjectKind::irq_queue:
    return "irq_queue";
  case ObjectKind::world:
    return "world";
  }
  return "?";
}

} // namespace diosim::engine
