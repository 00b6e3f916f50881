// How `ember` subcommands plug in: one file per subcommand (tools/cmd_NAME.cpp), nothing else to edit.
//
// A subcommand file defines a setup function and registers it at namespace scope:
//
//     namespace {
//     ember::cli::Run setup_info(CLI::App& cmd) {
//         auto opts = std::make_shared<InfoOptions>();
//         cmd.add_option("-m,--model", opts->path, "GGUF file")->required();
//         return [opts] { ...; return 0; };  // runs after parsing; returns the exit code
//     }
//     }  // namespace
//     EMBER_CLI_COMMAND(info, "Show a GGUF file's header, metadata and tensors", setup_info);
//
// setup adds the options to the subcommand's CLI::App (created by main with the name and
// description) and returns the Run that does the work. Keep Run thin: parse, call the library,
// print. Library errors are ember::Error exceptions; main prints "error: <message>" and exits 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string_view>
#include <vector>

namespace ember::cli {

// What a subcommand does once the command line is parsed. Returns the process exit code.
using Run = std::function<int()>;
// Adds the subcommand's options to `cmd` and returns its Run.
using Setup = Run (*)(CLI::App& cmd);

struct Command {
    std::string_view name;
    std::string_view description;
    Setup setup;
};

// Registers a subcommand (called during static initialization by EMBER_CLI_COMMAND).
bool register_command(const Command& command);
// Every registered subcommand, sorted by name.
std::vector<Command> registered_commands();

}  // namespace ember::cli

#define EMBER_CLI_COMMAND(name, description, setup)                            \
    [[maybe_unused]] static const bool ember_cli_command_registered_##name =   \
        ::ember::cli::register_command({#name, description, setup})
