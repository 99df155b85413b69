#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build,
# and run the offline quickstart experiment. Prints the run folder last.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build -DAIGTATT_TESTS=OFF
build/bin/aigtatt run configs/quickstart.yaml "$@"
