// `ember`: the command-line entry. Subcommands register themselves from tools/cmd_*.cpp
// (see commands.h); this file only parses the command line, runs the chosen subcommand and
// turns library errors into "error: <message>" on stderr with exit status 1 (an output that could
// not be written too: tools/cli_io.h).
#include "core/error.h"
#include "tools/cli_io.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace ember::cli {

namespace {
std::vector<Command>& registry() {
    static std::vector<Command> commands;  // function-local: safe during static initialization
    return commands;
}
}  // namespace

bool register_command(const Command& command) {
    registry().push_back(command);
    return true;
}

std::vector<Command> registered_commands() {
    std::vector<Command> sorted = registry();
    std::sort(sorted.begin(), sorted.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
    return sorted;
}

namespace {

int run_main(int argc, char** argv) {
    CLI::App app{"ember: a tensor engine and LLM runtime for GGUF models", "ember"};
    app.require_subcommand(1);
    app.fallthrough(false);

    std::vector<std::pair<CLI::App*, Run>> subcommands;
    for (const Command& c : registered_commands()) {
        CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.description));
        subcommands.emplace_back(sub, c.setup(*sub));
    }

    // Single-dash long options that users know from llama.cpp (CLI11 only has one-letter short ones).
    std::vector<std::string> args(argv, argv + argc);
    for (std::string& a : args) {
        if (a == "-ngl") a = "--n-gpu-layers";
        if (a == "-np") a = "--parallel";
    }
    std::vector<char*> arg_ptrs;
    for (std::string& a : args) arg_ptrs.push_back(a.data());

    try {
        app.parse(argc, arg_ptrs.data());
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help or the usage error
        return code == 0 ? 0 : 2;
    }
    for (auto& [sub, run] : subcommands) {
        if (sub->parsed()) return run();
    }
    return 2;  // unreachable: require_subcommand(1)
}

}  // namespace
}  // namespace ember::cli

int main(int argc, char** argv) {
    ember::cli::install_interrupt_cleanup();
    try {
        const int rc = ember::cli::run_main(argc, argv);
        if (rc == 0) ember::cli::finish_stdout();  // a lost write is an error, not a success
        return rc;
    } catch (const ember::Error& e) {
        fmt::print(stderr, "error: {}\n", e.what());
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
    } catch (...) {
        fmt::print(stderr, "error: unknown exception\n");
    }
    return 1;
}
