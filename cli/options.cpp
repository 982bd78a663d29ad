// SPDX-License-Identifier: GPL-2.0-only
#include "cli/options.hpp"

#include "model/check/expectations.hpp"

#include <string>
#include <vector>

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

std::string quiet_token(const std::string& token, const std::string& where_in_full) {
  if (token.size() <= kQuietTokenChars) return token;
  const std::string hash = model::fnv1a_hex(std::vector<uint8_t>(token.begin(), token.end()));
  return token.substr(0, kQuietTokenHead) + "... (" + std::to_string(token.size()) +
         " chars, fnv1a " + hash + "; " + where_in_full + ")";
}

} // namespace diosim::cli
