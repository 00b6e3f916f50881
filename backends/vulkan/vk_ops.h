// Which graph ops the Vulkan backend runs, and how: each supported node becomes one
// dispatch of one shader variant with up to four bound tensors and a push-constant block
// (the layout of Params in shaders/common.glsl).
#pragma once

#include "backends/vulkan/vk_runtime.h"
#include "core/tensor.h"

#include <array>
#include <cstdint>
#include <string>

namespace ember::vulkan {

// Mirrors `Params` in shaders/common.glsl (28 words, within the 128 bytes every device has).
struct PushConstants {
    uint32_t ne0[4]{1, 1, 1, 1};
    uint32_t nb0[4]{};
    uint32_t ne1[4]{1, 1, 1, 1};
    uint32_t nb1[4]{};
    uint32_t nbd[3]{};
    uint32_t off[4]{};  // filled by the recorder from the bindings
    uint32_t u0 = 0, u1 = 0;
    float f0 = 0, f1 = 0, f2 = 0;
};
static_assert(sizeof(PushConstants) == 112);

struct Dispatch {
    std::string shader;                            // variant name in shaders/variants.cmake
    std::array<const Tensor*, 4> bind{};           // src0, src1, src2, dst (nullptr: unused)
    PushConstants pc;
    uint64_t groups = 0;                           // workgroups, flattened (see group_id())
};

// Whether the backend has a shader for `node` with these types and layouts (sizes that fit
// 32-bit shader arithmetic and one binding each included). Where the data lives is the
// backend's check, not this one.
bool op_supported(const Tensor& node, const DeviceCaps& caps);

// The dispatch that computes `node` (op_supported must hold).
Dispatch plan_dispatch(const Tensor& node);

}  // namespace ember::vulkan
