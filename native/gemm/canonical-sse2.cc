// The canonical GEMM built for sse2 (compiled with that ISA's flags in native/binding.gyp).
#define GEMM_ISA sse2
#define GEMM_VBYTES 16
#include "canonical-kernel.h"
