// Command groups of sbctl. A group adds its subcommands to the app; main.cpp calls each Register
// function once. Adding a group = one <group>_commands.cpp defining its Register function, one
// declaration here, one line in main.cpp.
//
//   void RegisterSipCommands(CLI::App& app, CommandContext& context);
//
// Handlers write results to context.out (JSON for machines, one object per command) and problems
// to context.err, and set context.exit_code.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>

namespace sb::sbctl {

struct CommandContext {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  int exit_code = 0;
};

// sip parse FILE|-   (libs/sip/message)
void RegisterSipCommands(CLI::App& app, CommandContext& context);

// tenant|key|ext|number|trunk|audit ...   (the admin gRPC API; services/admin)
void RegisterAdminCommands(CLI::App& app, CommandContext& context);

}  // namespace sb::sbctl
