// `ember info -m FILE`: print a GGUF file's header, metadata, tensor table and totals.
#include "ember/gguf.h"
#include "model/gguf/info.h"
#include "tools/cli_io.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

struct InfoArgs {
    std::string path;
    ember::gguf::InfoOptions options;
};

ember::cli::Run setup_info(CLI::App& cmd) {
    auto args = std::make_shared<InfoArgs>();
    cmd.add_option("-m,--model", args->path, "GGUF file to describe")->required();
    cmd.add_option("--max-array", args->options.max_array_elements, "array elements to show per key")
        ->capture_default_str();
    cmd.add_option("--max-string", args->options.max_string_bytes, "string bytes to show before cutting")
        ->capture_default_str();
    cmd.add_flag("--no-metadata", [args](int64_t) { args->options.show_metadata = false; }, "omit the metadata list");
    cmd.add_flag("--no-tensors", [args](int64_t) { args->options.show_tensors = false; }, "omit the tensor table");
    return [args] {
        const ember::gguf::File file = ember::gguf::File::open(args->path);
        const std::string report = ember::gguf::format_info(file, args->options);
        ember::cli::write_stdout(report);
        return 0;
    };
}

}  // namespace

EMBER_CLI_COMMAND(info, "Show a GGUF file's header, metadata, tensors and totals", setup_info);
