// `ember devices`: every compiled-in backend and its devices (name, type, memory, properties
// such as the subgroup size and fp16/int8 support), so that --backend and --device can be chosen.
#include "core/backend.h"
#include "core/error.h"
#include "tools/cli_io.h"
#include "tools/commands.h"

#include <fmt/format.h>

namespace {

std::string mib(size_t bytes) { return bytes == 0 ? "unknown" : fmt::format("{} MiB", bytes >> 20); }

ember::cli::Run setup_devices(CLI::App& cmd) {
    return [] {
        std::string out;
        for (const ember::BackendReg* reg : ember::registry().all()) {
            size_t n = 0;
            try {
                n = reg->device_count();
                if (n == 0) reg->device(0);  // throws the backend's reason for having none
            } catch (const ember::Error& e) {
                out += fmt::format("{}: no devices ({})\n", reg->name(), e.what());
                continue;
            }
            out += fmt::format("{}: {} device{}\n", reg->name(), n, n == 1 ? "" : "s");
            for (size_t i = 0; i < n; ++i) {
                const ember::DeviceInfo info = reg->device(i).info();
                out += fmt::format("  {}  {} ({})\n", i, info.description, ember::device_kind_name(info.kind));
                out += fmt::format("     memory: {} total, {} free\n", mib(info.memory_total), mib(info.memory_free));
                if (!info.properties.empty()) out += fmt::format("     {}\n", fmt::join(info.properties, ", "));
            }
        }
        ember::cli::write_stdout(out);
        return 0;
    };
}

}  // namespace

EMBER_CLI_COMMAND(devices, "List the compute backends and their devices", setup_devices);
