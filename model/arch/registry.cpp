// The architectures ember runs, looked up by `general.architecture`. Each family is one file
// in model/arch/ defining its Architecture; add it to the list here.
#include "core/error.h"
#include "model/arch/architecture.h"

namespace ember {
namespace {
const Architecture* const kArchitectures[] = {&kLlamaArchitecture,  &kQwen2Architecture,  &kQwen3Architecture,
                                              &kPhi3Architecture,   &kGemma2Architecture, &kGemma3Architecture};
}  // namespace

const Architecture& find_architecture(std::string_view name) {
    for (const Architecture* a : kArchitectures) {
        if (a->name == name) return *a;
    }
    std::string known;
    for (const Architecture* a : kArchitectures) known += (known.empty() ? "" : ", ") + std::string(a->name);
    fail("unsupported architecture '{}' (supported: {})", name, known);
}

}  // namespace ember
