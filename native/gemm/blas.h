// The BLAS bridge's entry points (blas.cc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "record.h"

namespace tessera_gemm {

struct BlasLibrary {
  std::string library, corename, config;
};

/** Opens the first of `paths` that has cblas_dgemm and cblas_sgemm (once per process); null when none does. */
const BlasLibrary* LoadBlas(const std::vector<std::string>& paths);

/** The record by BLAS: RC_OK, or RC_FALLBACK when it is left to the canonical kernel. After a LoadBlas. */
int BlasGemm(uint8_t* mem, const Record& r);

}  // namespace tessera_gemm
