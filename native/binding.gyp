{
  "targets": [
    {
      "target_name": "tessera_shm",
      "sources": ["shm.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["shm.cc"]}]]
    }
  ]
}
