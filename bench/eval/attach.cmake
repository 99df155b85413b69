# Adds bench/eval to a build whose top level does not include bench/ yet:
#   cmake -S . -B build -DCMAKE_PROJECT_INCLUDE=$PWD/bench/eval/attach.cmake
# (run.sh does this for its own build folder). The call is deferred to the
# end of the top-level CMakeLists.txt, when the plugin's libraries exist,
# and does nothing once the top level builds bench/ itself.
include_guard(GLOBAL)
if(NOT CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR)
  return()
endif()
# (Deferred calls may not add subdirectories, so the target is defined in
# the top-level folder by including bench/eval's CMakeLists.txt.)
macro(_aigtatt_attach_bench_eval)
  if(NOT TARGET bench_eval)
    include("${CMAKE_SOURCE_DIR}/bench/eval/CMakeLists.txt")
  endif()
endmacro()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _aigtatt_attach_bench_eval)
