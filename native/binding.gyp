{
  "targets": [
    {
      "target_name": "tessera_shm",
      "sources": ["shm.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["shm.cc"]}]]
    },
    {
      "target_name": "gemm_avx512", "type": "static_library", "sources": ["gemm/canonical-avx512.cc"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["gemm/canonical-avx512.cc"]}]],
      "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-ffp-contract=off", "-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mprefer-vector-width=512"]
    },
    {
      "target_name": "gemm_avx2", "type": "static_library", "sources": ["gemm/canonical-avx2.cc"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["gemm/canonical-avx2.cc"]}]],
      "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-ffp-contract=off", "-mavx2"]
    },
    {
      "target_name": "gemm_sse2", "type": "static_library", "sources": ["gemm/canonical-sse2.cc"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["gemm/canonical-sse2.cc"]}]],
      "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-ffp-contract=off"]
    },
    {
      "target_name": "tessera_gemm",
      "sources": ["gemm/addon.cc", "gemm/blas.cc", "gemm/canonical.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except", "gemm_avx512", "gemm_avx2", "gemm_sse2"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-std=c++17", "-ffp-contract=off"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux' or target_arch!='x64'", {"type": "none", "sources!": ["gemm/addon.cc", "gemm/blas.cc", "gemm/canonical.cc"], "dependencies!": ["gemm_avx512", "gemm_avx2", "gemm_sse2"]}]]
    },
    {
      "target_name": "kernels_avx512", "type": "static_library", "sources": ["kernels/interp_avx512.cc"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["kernels/interp_avx512.cc"]}]],
      "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-ffp-contract=off", "-fno-math-errno", "-fno-strict-aliasing", "-mavx2", "-mfma", "-mbmi2", "-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mprefer-vector-width=512"]
    },
    {
      "target_name": "kernels_avx2", "type": "static_library", "sources": ["kernels/interp_avx2.cc"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["kernels/interp_avx2.cc"]}]],
      "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-ffp-contract=off", "-fno-math-errno", "-fno-strict-aliasing", "-mavx2", "-mfma", "-mbmi2"]
    },
    {
      "target_name": "tessera_kernels",
      "sources": ["kernels/addon.cc", "kernels/validate.cc", "kernels/asmath.cc", "kernels/interp_scalar.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except", "kernels_avx512", "kernels_avx2"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-fno-strict-aliasing"],
      "conditions": [["target_arch!='x64'", {"type": "none", "sources!": ["kernels/addon.cc", "kernels/validate.cc", "kernels/asmath.cc", "kernels/interp_scalar.cc"]}]]
    },
    {
      "target_name": "tessera_codecs",
      "sources": ["codecs/zstd.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["codecs/zstd.cc"]}]]
    }
  ]
}
