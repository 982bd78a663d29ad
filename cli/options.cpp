// SPDX-License-Identifier: GPL-2.0-only
#include "cli/options.hpp"

#include <string>

namespace diosim::cli {

CLI::Validator unsigned_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return "expected an unsigned integer (0 .. 18446744073709551615), got \"" + text + "\"";
        return "";
      },
      "UINT");
}

} // namespace diosim::cli
