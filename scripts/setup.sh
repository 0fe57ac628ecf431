#!/usr/bin/env bash
# Installs the Debian packages qkbench needs. As root it installs what is missing;
# otherwise it prints exactly what is missing and the command to install it.
set -euo pipefail

usage() {
  cat <<'TXT'
usage: scripts/setup.sh [--check] [--no-arm]
  Installs missing build, test and cross-build dependencies (Debian 12).
  --check   only report what is missing; exit 1 if anything is
  --no-arm  skip the aarch64 cross compiler, qemu-user and arm64 libraries
TXT
}

check_only=0 arm=1
for a in "$@"; do
  case "$a" in
    --check) check_only=1 ;;
    --no-arm) arm=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup.sh: unknown option '$a'" >&2; usage >&2; exit 2 ;;
  esac
done

native=(meson ninja-build pkg-config gcc g++ libcpuinfo-dev libbenchmark-dev libbenchmark-tools
        libcriterion-dev libxnnpack-dev libpthreadpool-dev libjson-c-dev python3-venv python3-scipy
        util-linux)
cross=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user libcpuinfo-dev:arm64 libjson-c-dev:arm64)

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

want=("${native[@]}")
[[ $arm == 1 ]] && want+=("${cross[@]}")
missing=()
for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} == 0 ]]; then echo "setup: all dependencies present"; exit 0; fi

echo "setup: missing packages: ${missing[*]}"
if [[ $check_only == 1 ]]; then exit 1; fi
if [[ $(id -u) != 0 ]]; then
  echo "setup: not root; install them with:" >&2
  [[ $arm == 1 ]] && echo "  sudo dpkg --add-architecture arm64 && echo 'path-exclude=/usr/lib/cmake/cpuinfo/*' | sudo tee /etc/dpkg/dpkg.cfg.d/zz-cpuinfo-multiarch" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

if [[ $arm == 1 ]]; then
  # amd64 and arm64 libcpuinfo-dev both ship /usr/lib/cmake/cpuinfo/*.cmake with different contents.
  echo 'path-exclude=/usr/lib/cmake/cpuinfo/*' > /etc/dpkg/dpkg.cfg.d/zz-cpuinfo-multiarch
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: installed ${#missing[@]} packages"
