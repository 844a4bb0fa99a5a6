// The canonical GEMM built for avx512 (compiled with that ISA's flags in native/binding.gyp).
#define GEMM_ISA avx512
#define GEMM_VBYTES 64
#include "canonical-kernel.h"
