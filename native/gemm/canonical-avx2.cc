// The canonical GEMM built for avx2 (compiled with that ISA's flags in native/binding.gyp).
#define GEMM_ISA avx2
#define GEMM_VBYTES 32
#include "canonical-kernel.h"
