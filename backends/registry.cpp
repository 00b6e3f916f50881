// The process-wide backend registry: every backend compiled into this library.
#include "core/backend.h"

#include "backends/cpu/cpu_backend.h"
#ifdef EMBER_WITH_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#endif
#ifdef EMBER_WITH_BLAS
#include "backends/blas/blas_backend.h"
#endif

namespace ember {

Registry& registry() {
    static Registry* instance = [] {
        auto* r = new Registry();  // never destroyed: backends may be used during static teardown
        r->add(cpu::make_backend_reg());
#ifdef EMBER_WITH_VULKAN
        r->add(vulkan::make_backend_reg());
#endif
#ifdef EMBER_WITH_BLAS
        r->add(blas::make_backend_reg());
#endif
        return r;
    }();
    return *instance;
}

}  // namespace ember
