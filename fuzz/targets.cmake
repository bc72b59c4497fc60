# The fuzz targets' code as two libraries, shared by the libFuzzer build (fuzz/CMakeLists.txt) and the
# replay tests of the normal build (tests/CMakeLists.txt):
#   pgl_fuzz_targets        fuzz_support and the targets without LibTorch;
#   pgl_fuzz_torch_targets  checkpoint and weights (the includer links pgl's LibTorch readers to it), unless
#                           PGL_FUZZ_TORCH is set to OFF before the include.
set(PGL_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PGL_FUZZ_DATA_TARGETS nifti nifti_gz nrrd metaimage dicom dataset_json cache_sidecar cache_header)
set(PGL_FUZZ_TORCH_TARGETS checkpoint weights)

set(sources ${PGL_FUZZ_DIR}/fuzz_support.cpp)
foreach(t ${PGL_FUZZ_DATA_TARGETS})
  list(APPEND sources ${PGL_FUZZ_DIR}/${t}.cpp)
endforeach()
add_library(pgl_fuzz_targets STATIC ${sources})
target_include_directories(pgl_fuzz_targets PUBLIC ${PGL_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(pgl_fuzz_targets PUBLIC pgl_data pgl_io pgl_core ZLIB::ZLIB)
pgl_warnings(pgl_fuzz_targets)

if(DEFINED PGL_FUZZ_TORCH AND NOT PGL_FUZZ_TORCH)
  return()
endif()
set(sources)
foreach(t ${PGL_FUZZ_TORCH_TARGETS})
  list(APPEND sources ${PGL_FUZZ_DIR}/${t}.cpp)
endforeach()
add_library(pgl_fuzz_torch_targets STATIC ${sources})
target_link_libraries(pgl_fuzz_torch_targets PUBLIC pgl_fuzz_targets)
pgl_use_torch(pgl_fuzz_torch_targets)
pgl_warnings(pgl_fuzz_torch_targets)
