# -DPGL_FUZZ=ON: every target is compiled with ASan, UBSan and libFuzzer's coverage instrumentation; the fuzz
# targets themselves (fuzz/) link libFuzzer. Use a build folder of its own (scripts/fuzz.sh uses build-fuzz).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "PGL_FUZZ needs clang (-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)

# Debian's ITK 5.2 was configured with GCC: its itk_compiler_detection.h stops with "Unsupported compiler"
# under clang. Every C++ file gets a copy (included first, so the original's include guard skips it) that takes
# clang for the GCC that it is compatible with, with every C++11/14 feature ITK probes for.
find_file(PGL_ITK_DETECTION itk_compiler_detection.h PATHS ${ITK_INCLUDE_DIRS} NO_DEFAULT_PATH REQUIRED)
get_filename_component(itk_include ${PGL_ITK_DETECTION} DIRECTORY)
file(READ ${PGL_ITK_DETECTION} detection)
file(READ ${itk_include}/compilers/ITK_COMPILER_INFO_GNU_CXX.h gnu_info)
string(REPLACE "__GNUC__ * 100 + __GNUC_MINOR__" "1200" gnu_info "${gnu_info}")
string(REPLACE "#  if ITK_COMPILER_IS_GNU\n" "#  if ITK_COMPILER_IS_GNU || ITK_COMPILER_IS_Clang\n" detection
               "${detection}")
string(REPLACE "compilers/ITK_COMPILER_INFO_GNU_CXX.h" "${CMAKE_BINARY_DIR}/itk_clang/ITK_COMPILER_INFO_GNU_CXX.h"
               detection "${detection}")
file(WRITE ${CMAKE_BINARY_DIR}/itk_clang/ITK_COMPILER_INFO_GNU_CXX.h "${gnu_info}")
file(WRITE ${CMAKE_BINARY_DIR}/itk_clang/itk_compiler_detection.h "${detection}")
add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${CMAKE_BINARY_DIR}/itk_clang/itk_compiler_detection.h>")
