// The process-wide backend registry: every backend compiled into this library.
#include "core/backend.h"

#include "backends/cpu/cpu_backend.h"

namespace ember {

Registry& registry() {
    static Registry* instance = [] {
        auto* r = new Registry();  // never destroyed: backends may be used during static teardown
        r->add(cpu::make_backend_reg());
        return r;
    }();
    return *instance;
}

}  // namespace ember
