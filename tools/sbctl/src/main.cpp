// sbctl: Switchboard's command-line client. Wiring only; the commands live in *_commands.cpp.
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"sbctl: Switchboard command-line client"};
  app.require_subcommand(1);
  sb::sbctl::CommandContext context{std::cout, std::cerr, std::cin};
  sb::sbctl::RegisterSipCommands(app, context);
  sb::sbctl::RegisterAdminCommands(app, context);
  CLI11_PARSE(app, argc, argv);
  return context.exit_code;
}
