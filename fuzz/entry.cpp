// libFuzzer's entry point for one target: PGL_FUZZ_FUNCTION names it (fuzz/CMakeLists.txt).
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PGL_FUZZ_FUNCTION(data, size);
  return 0;
}
