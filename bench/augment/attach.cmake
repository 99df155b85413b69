# Adds bench/augment to a build whose top level does not include bench/ yet:
#   cmake -S . -B build-bench -DCMAKE_PROJECT_aigtatt_INCLUDE=$PWD/bench/augment/attach.cmake
# (run.sh does this for its own build folder). It runs right after
# project(); the target is defined at the end of the top-level
# CMakeLists.txt, once the core and the plugins exist, and nothing happens
# once the top level builds bench/ itself. (Deferred calls may not add
# subdirectories, so bench/augment's CMakeLists.txt is included.)
include_guard(GLOBAL)
macro(_aigtatt_attach_bench_augment)
  if(NOT TARGET bench_augment)
    include("${CMAKE_SOURCE_DIR}/bench/augment/CMakeLists.txt")
  endif()
endmacro()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _aigtatt_attach_bench_augment)
