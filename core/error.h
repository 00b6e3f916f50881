// fail(): throws ember::Error (include/ember/error.h) with a fmt-formatted message. The CLI
// catches it at the top, prints what(), and exits 1.
#pragma once

#include "ember/error.h"

#include <fmt/format.h>

#include <utility>

namespace ember {

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ember
