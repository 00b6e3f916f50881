// The Vulkan backend: every llama op as GLSL compute shaders (shaders/) on any Vulkan 1.1
// device, lavapipe included. Weights, KV cache and activations live in device buffers
// (vk_buffer.h); compute() records one command buffer per call and waits for it.
#pragma once

#include "core/backend.h"

#include <memory>

namespace ember::vulkan {

// "vulkan" registry entry: one Device per Vulkan device (real GPUs first). Enumerating
// needs no driver: with none there are zero devices, and asking for one gives an error
// naming the cause.
std::unique_ptr<BackendReg> make_backend_reg();

}  // namespace ember::vulkan
