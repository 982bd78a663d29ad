// SPDX-License-Identifier: GPL-2.0-only
// Everything the port of fs/direct-io.c may call: the simulated kernel API in one include.
#pragma once

#include "sim/kernel/bio.hpp"
#include "sim/kernel/buffer_head.hpp"
#include "sim/kernel/err_ptr.hpp"
#include "sim/kernel/fs.hpp"
#include "sim/kernel/mm.hpp"
#include "sim/kernel/page.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/slab.hpp"
#include "sim/kernel/spinlock.hpp"
#include "sim/kernel/types.hpp"
#include "sim/kernel/uio.hpp"
#include "sim/kernel/workqueue.hpp"
