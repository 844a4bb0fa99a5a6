// The avx2 dispatch level of the native interpreter: the shared sources compiled with this level's flags
// (binding.gyp), in their own namespace so the levels link side by side.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "asmath.h"
#include "levels.h"
#include "program.h"

namespace tk::avx2 {
#include "vec.inc"
#include "reduce.inc"
#include "elementwise.inc"
#include "random.inc"
#include "fused.inc"
#include "histogram.inc"
#include "interpreter.inc"
}  // namespace tk::avx2
