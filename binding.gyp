{
  # mentia's native engine. The compute code (src/engine/native/net_impl.h) is compiled once per
  # instruction set: a portable variant and, on x86-64, AVX2+FMA and AVX-512 variants (each file
  # with its own flags, so any x86-64 compiler builds all three); the addon picks one at load
  # time from the CPU's feature bits, so one build runs on any machine of the architecture.
  # Deliberately no -ffast-math: results must be identical run to run.
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=gnu++17", "-O3", "-fPIC", "-fexceptions", "-fno-math-errno", "-ffp-contract=fast", "-Wno-psabi"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "gnu++17",
      "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-ffp-contract=fast", "-Wno-psabi"]
    }
  },
  "targets": [
    {
      "target_name": "mentia_generic",
      "type": "static_library",
      "sources": ["src/engine/native/net_generic.cc"]
    },
    {
      "target_name": "mentia_native",
      "sources": ["src/engine/native/addon.cc", "src/engine/native/deform.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "dependencies": ["mentia_generic"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["mentia_avx2", "mentia_avx512"],
          "defines": ["MENTIA_HAVE_X86"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "mentia_avx2",
          "type": "static_library",
          "sources": ["src/engine/native/net_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          "target_name": "mentia_avx512",
          "type": "static_library",
          "sources": ["src/engine/native/net_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mavx2"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mavx2"] }
        }
      ]
    }]
  ]
}
