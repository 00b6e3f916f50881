// `ember devices`: every compiled-in backend and its devices (name, type, memory, properties
// such as the subgroup size and fp16/int8 support), so that --backend and --device can be chosen.
#include "ember/backends.h"
#include "tools/cli_io.h"
#include "tools/commands.h"

#include <fmt/format.h>

namespace {

std::string mib(size_t bytes) { return bytes == 0 ? "unknown" : fmt::format("{} MiB", bytes >> 20); }

ember::cli::Run setup_devices(CLI::App& cmd) {
    return [] {
        std::string out;
        for (const ember::BackendDevices& b : ember::list_backends()) {
            if (!b.unavailable.empty()) {
                out += fmt::format("{}: no devices ({})\n", b.backend, b.unavailable);
                continue;
            }
            const size_t n = b.devices.size();
            out += fmt::format("{}: {} device{}\n", b.backend, n, n == 1 ? "" : "s");
            for (size_t i = 0; i < n; ++i) {
                const ember::DeviceInfo& info = b.devices[i];
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
