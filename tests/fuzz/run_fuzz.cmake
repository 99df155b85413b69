# Runs one libFuzzer binary for a bounded time (cmake -P script used by the
# fuzz_image_load test). Inputs: FUZZER, SEEDS (read-only seed folder),
# WORK (emptied, receives new inputs), ARTIFACTS (crash inputs), SECONDS.
foreach(_v FUZZER SEEDS WORK ARTIFACTS SECONDS)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "run_fuzz.cmake: -D${_v}=... missing")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}" "${ARTIFACTS}")
file(MAKE_DIRECTORY "${WORK}" "${ARTIFACTS}")

# -timeout: one input may take at most 10 s (a hang is a failure);
# -rss_limit_mb: the pixel budget keeps a normal input far below this;
# -max_len: seeds are under 2 KB, room to grow without slowing down.
execute_process(
  COMMAND "${FUZZER}" "-max_total_time=${SECONDS}" -rss_limit_mb=2048 -timeout=10
          -max_len=16384 -print_final_stats=1 "-artifact_prefix=${ARTIFACTS}/"
          "${WORK}" "${SEEDS}"
  RESULT_VARIABLE _rc)

if(NOT _rc EQUAL 0)
  file(GLOB _found "${ARTIFACTS}/*")
  message(FATAL_ERROR
    "fuzz: ${FUZZER} failed (exit ${_rc}); the input that broke it is in ${ARTIFACTS}/: ${_found}\n"
    "Reproduce with: ${FUZZER} <that file>")
endif()
message(STATUS "fuzz: no crash in ${SECONDS} s")
