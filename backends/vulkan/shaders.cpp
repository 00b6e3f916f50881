#include "backends/vulkan/shaders.h"

namespace ember::vulkan {

const EmbeddedShader* find_shader(std::string_view name) {
    for (size_t i = 0; i < kEmbeddedShaderCount; ++i) {
        if (name == kEmbeddedShaders[i].name) return &kEmbeddedShaders[i];
    }
    return nullptr;
}

}  // namespace ember::vulkan
