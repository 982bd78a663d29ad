// SPDX-License-Identifier: GPL-2.0-only
#include "cli/port_source.hpp"

namespace diosim::cli {

const char* const kPortSource = DIOSIM_PORT_SOURCE;

} // namespace diosim::cli
