{
  "targets": [
    {
      "target_name": "tessera_shm",
      "sources": ["shm.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["shm.cc"]}]]
    },
    {
      "target_name": "tessera_blas",
      "sources": ["blas/blas.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["blas/blas.cc"]}]]
    }
  ]
}
