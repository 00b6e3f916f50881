// The library's version.
#pragma once

namespace ember {

// "major.minor.patch" of the libember this program runs with.
const char* version();

}  // namespace ember
