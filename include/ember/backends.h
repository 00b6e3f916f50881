// The compute backends compiled into libember and their devices, as `ember devices` lists them.
//
//   for (const ember::BackendDevices& b : ember::list_backends())
//       for (const ember::DeviceInfo& d : b.devices) std::printf("%s %s\n", b.backend.c_str(), d.description.c_str());
//
// A Session runs on one of them (SessionParams::backend and ::device), with the CPU as the
// fallback for what the device does not support.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ember {

enum class DeviceKind { Cpu, Gpu, Accelerator };
const char* device_kind_name(DeviceKind kind);  // "CPU", "GPU", ...

struct DeviceInfo {
    std::string name;
    std::string description;
    DeviceKind kind = DeviceKind::Cpu;
    size_t memory_total = 0;  // bytes, 0 if unknown
    size_t memory_free = 0;
    std::vector<std::string> properties;  // "subgroup size 32", "fp16", ...
};

struct BackendDevices {
    std::string backend;  // "cpu", "blas", "vulkan": the name SessionParams::backend takes
    std::vector<DeviceInfo> devices;  // index i is SessionParams::device = i
    std::string unavailable;          // when discovery failed: the backend's reason (devices is empty)
};

// Every backend compiled in, the CPU first. A backend whose device discovery fails is listed
// with no devices and the reason, rather than throwing.
std::vector<BackendDevices> list_backends();

}  // namespace ember
