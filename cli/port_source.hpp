// SPDX-License-Identifier: GPL-2.0-only
// Where this executable's port source is (its AT markers define the reachable lines): the
// port for `diosim`, the patched copy for a variant (cmake/variants.cmake). Only
// port_source.cpp names the path, so a variant recompiles one tiny file, not the CLI.
#pragma once

namespace diosim::cli {

extern const char* const kPortSource;

} // namespace diosim::cli
