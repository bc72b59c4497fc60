# Shared helpers for the pgl targets.

# Warnings for our own code only (third-party headers are included as SYSTEM).
function(pgl_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(PGL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# One precompiled header for everything that includes LibTorch: compiling torch/torch.h takes ~20 s,
# so every torch-using target reuses this PCH instead of parsing it again.
add_library(pgl_torch_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
target_include_directories(pgl_torch_pch SYSTEM PUBLIC ${TORCH_INCLUDE_DIRS})
target_link_libraries(pgl_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_precompile_headers(pgl_torch_pch PRIVATE <torch/torch.h> <vector> <string> <array>)
pgl_warnings(pgl_torch_pch)

function(pgl_use_torch target)
  target_link_libraries(${target} PUBLIC pgl_torch_pch)
  target_precompile_headers(${target} REUSE_FROM pgl_torch_pch)
endfunction()

# pgl_module(NAME name [DEPS ...] [TORCH]) -> static library pgl_<name> from every .cpp in the folder
function(pgl_module)
  cmake_parse_arguments(M "TORCH" "NAME" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(pgl_${M_NAME} STATIC ${sources})
  target_include_directories(pgl_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(pgl_${M_NAME} PUBLIC ${M_DEPS})
  if(M_TORCH)
    pgl_use_torch(pgl_${M_NAME})
  endif()
  pgl_warnings(pgl_${M_NAME})
endfunction()
