#!/usr/bin/env bash
# Installs every build and test dependency on a fresh Debian 12 (bookworm) machine.
# Idempotent: packages already present are skipped, so a second run costs ~1 s.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 libclang-rt-14-dev clang-format-14
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libsqlite3-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libtomlplusplus-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  curl ca-certificates iproute2 procps python3 openssl dnsutils
  pebble
  prometheus chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
