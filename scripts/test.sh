#!/usr/bin/env bash
# README command 2: builds and runs every test — native (-Werror), AddressSanitizer +
# UndefinedBehaviorSanitizer, and aarch64 under qemu-user at three emulated CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'TXT'
usage: scripts/test.sh [--no-setup] [--only native|sanitize|aarch64]...
  Runs scripts/setup.sh (installs missing Debian packages as root), then for each configuration:
  meson setup in _build/<config>, ninja, meson test. Exit status is non-zero if any test fails.
  --no-setup   skip the package check
  --only C     run only configuration C (repeatable)
TXT
}

setup=1
only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-setup) setup=0 ;;
    --only) [[ $# -ge 2 ]] || { echo "test.sh: --only needs a configuration" >&2; exit 2; }
            case "$2" in native|sanitize|aarch64) only+=("$2") ;; *) echo "test.sh: unknown configuration '$2'" >&2; exit 2 ;; esac
            shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ ${#only[@]} -gt 0 ]] || only=(native sanitize aarch64)

if [[ $setup == 1 ]]; then scripts/setup.sh; fi

configure() { # dir, extra meson args...
  local dir=$1; shift
  if [[ -f $dir/build.ninja ]]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
}

declare -A result
run_config() {
  local name=$1; shift
  echo "=== $name ==="
  if "$@"; then result[$name]=passed; else result[$name]=FAILED; fi
}

native() {
  configure _build/native -Dwerror=true &&
    ninja -C _build/native &&
    meson test -C _build/native --print-errorlogs
}

sanitize() {
  # Leak checks stay on; a SIGSEGV test (guard pages) needs ASan to leave SIGSEGV alone.
  configure _build/sanitize -Dwerror=true -Dbuildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbench=disabled -Dxnnpack=disabled &&
    ninja -C _build/sanitize &&
    meson test -C _build/sanitize --print-errorlogs
}

aarch64() {
  configure _build/aarch64 --cross-file cross/aarch64.ini -Dwerror=true &&
    ninja -C _build/aarch64 &&
    meson test -C _build/aarch64 --print-errorlogs
}

for c in "${only[@]}"; do run_config "$c" "$c"; done

echo "=== summary ==="
rc=0
for c in "${only[@]}"; do
  printf '  %-9s %s\n' "$c" "${result[$c]}"
  [[ ${result[$c]} == passed ]] || rc=1
done
exit $rc
