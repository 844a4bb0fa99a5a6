{
  "targets": [
    {
      "target_name": "tessera_shm",
      "sources": [
        "shm.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_cc": [
        "-O2",
        "-std=c++17"
      ],
      "conditions": [
        [
          "OS!='linux'",
          {
            "type": "none",
            "sources!": [
              "shm.cc"
            ]
          }
        ]
      ]
    },
    {
      "target_name": "tessera_kernels",
      "sources": [
        "kernels/addon.cc",
        "kernels/validate.cc",
        "kernels/asmath.cc",
        "kernels/interp_scalar.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
        "kernels_avx2",
        "kernels_avx512"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-fno-strict-aliasing",
        "-fno-fast-math"
      ],
      "conditions": [
        [
          "target_arch!='x64'",
          {
            "type": "none"
          }
        ]
      ]
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": [
        "kernels/interp_avx2.cc"
      ],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-fno-strict-aliasing",
        "-fno-fast-math",
        "-mavx2",
        "-mfma",
        "-mbmi2",
        "-fPIC"
      ],
      "conditions": [
        [
          "target_arch!='x64'",
          {
            "type": "none"
          }
        ]
      ]
    },
    {
      "target_name": "kernels_avx512",
      "type": "static_library",
      "sources": [
        "kernels/interp_avx512.cc"
      ],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-fno-strict-aliasing",
        "-fno-fast-math",
        "-mavx2",
        "-mfma",
        "-mbmi2",
        "-mavx512f",
        "-mavx512dq",
        "-mavx512bw",
        "-mavx512vl",
        "-fPIC"
      ],
      "conditions": [
        [
          "target_arch!='x64'",
          {
            "type": "none"
          }
        ]
      ]
    }
  ]
}
