// SPDX-License-Identifier: GPL-2.0-only
// The port of fs/direct-io.c (reference revision e6b9d8eddb17): its exported entry point.
#pragma once

#include "sim/kernel/kernel.hpp"

namespace kern {

// fs/direct-io.c:1094-1309
ssize_t __blockdev_direct_IO(kiocb* iocb, inode* inode, block_device* bdev, iov_iter* iter,
                             get_block_t get_block, dio_iodone_t end_io, int flags);

// fs/direct-io.c:1312-1316 (module_init). Creates this thread's dio_cache in the installed
// Kernel and registers the struct dio inspector and assert_dio_state check with it. Call once
// per run, after installing the Kernel.
int dio_init();

} // namespace kern
