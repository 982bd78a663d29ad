// SPDX-License-Identifier: GPL-2.0-only
// diosim: the command line. Subcommands live in cli/*_cmd.cpp (see commands.hpp).
#include "cli/commands.hpp"

#include <cstdio>
#include <exception>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"diosim: a deterministic simulator of Linux's fs/direct-io.c"};
  app.set_version_flag("--version", std::string("diosim ") + DIOSIM_VERSION);
  app.require_subcommand(1);
  const std::vector<diosim::cli::Action> actions = {
      diosim::cli::register_run(app),
      diosim::cli::register_coverage(app),
      diosim::cli::register_fuzz(app),
      diosim::cli::register_explore(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (const auto& action : actions)
      if (const int rc = action(); rc >= 0) return rc;
  } catch (const diosim::scenario::ScenarioError& e) { // e.g. a pinned schedule that does not parse
    std::fprintf(stderr, "diosim: bad scenario: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diosim: [internal error] %s\n", e.what());
    return 3;
  }
  return 2;
}
