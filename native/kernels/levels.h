// The dispatch levels of the native interpreter, one translation unit each (interp_<level>.cc).
#pragma once
#include "program.h"

namespace tk {
namespace scalar { int run(const Prog& p); }
namespace avx2 { int run(const Prog& p); }
namespace avx512 { int run(const Prog& p); }
}  // namespace tk
