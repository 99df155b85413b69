#!/usr/bin/env bash
# Installs what aigtatt needs on Debian 12 (run as root, or with sudo on
# PATH). `setup.sh` installs the build dependencies; `setup.sh --test` adds
# what the test suite needs (Criterion, Python with pyeer and scikit-learn
# in .venv). Packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

pkgs=(build-essential cmake pkg-config libyaml-dev libjansson-dev libpng-dev
      libjpeg62-turbo-dev libssl-dev libcairo2-dev libdnnl-dev libcurl4-openssl-dev)
if [ $want_tests = 1 ]; then
  pkgs+=(libcriterion-dev python3 python3-venv python3-pip openssl python3-torch python3-torchvision python3-numpy
         clang-14 libclang-rt-14-dev chromium)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $want_tests = 1 ]; then
  # Parity tests compare against pyeer, scikit-learn, safetensors and
  # Debian's PyTorch. They run in a project-local venv built from Debian's
  # python3 that also sees its system packages (torch), so that nothing on
  # the machine's own Python changes.
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import pyeer, sklearn, safetensors, torch" 2>/dev/null; then
    echo "setup: creating .venv with the test references"
    rm -rf .venv
    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
  fi
fi
echo "setup: done"
