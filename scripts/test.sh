#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install what is
# missing, build, run every test; then build again with AddressSanitizer and
# UBSan and run every test there too. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export AIGTATT_PYTHON="$PWD/.venv/bin/python"
jobs=$(nproc)

echo "== build (RelWithDebInfo, -Werror) =="
scripts/build.sh build -DAIGTATT_TESTS=ON
echo "== tests =="
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build (ASan + UBSan) =="
scripts/build.sh build-asan -DAIGTATT_TESTS=ON -DAIGTATT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests under ASan + UBSan =="
# Criterion reports a test as passed even when LeakSanitizer complained in
# its child process, so the sanitizers' own reports are searched as well.
log=build-asan/sanitizer-tests.log
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -V -j"$jobs" > "$log" 2>&1 || { tail -n 200 "$log"; exit 1; }
if grep -nE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
  echo "sanitizer reports found (full log: $log)"; exit 1
fi
tail -n 3 "$log"
echo "== all tests passed =="
