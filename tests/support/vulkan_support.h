// Vulkan tests never pass without running: with no Vulkan device they fail saying so,
// unless EMBER_ALLOW_NO_VULKAN=1 is set, in which case they are skipped with the reason.
#pragma once

#include "core/backend.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace ember::test {

// Empty when registry().get("vulkan") has a device 0, else why not.
inline std::string vulkan_unavailable_reason() {
    const BackendReg* reg = registry().find("vulkan");
    if (reg == nullptr) return "the Vulkan backend is not compiled in";
    try {
        reg->device(0);
        return {};
    } catch (const Error& e) {
        return e.what();
    }
}

inline bool allow_no_vulkan() {
    const char* v = std::getenv("EMBER_ALLOW_NO_VULKAN");
    return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace ember::test

// In a test body or SetUp(): fail (or, with EMBER_ALLOW_NO_VULKAN=1, skip) without a device.
#define EMBER_REQUIRE_VULKAN()                                                                        \
    do {                                                                                              \
        const std::string ember_vk_why_ = ::ember::test::vulkan_unavailable_reason();                 \
        if (!ember_vk_why_.empty()) {                                                                 \
            if (::ember::test::allow_no_vulkan()) {                                                   \
                GTEST_SKIP() << "skipped (EMBER_ALLOW_NO_VULKAN=1): " << ember_vk_why_;               \
            }                                                                                         \
            FAIL() << ember_vk_why_ << " (set EMBER_ALLOW_NO_VULKAN=1 to skip the Vulkan tests)";     \
        }                                                                                             \
    } while (0)
