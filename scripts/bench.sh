#!/usr/bin/env bash
# README command 1: set up, build, run the latency suite pinned to one core, keep the JSON in
# results/<machine>/ and print a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'TXT'
usage: scripts/bench.sh [--quick] [--no-setup] [--build-dir DIR] [--cpu N] [--] [qkbench bench args...]
  1. scripts/setup.sh --no-arm (installs missing Debian packages when root, else says what to run)
  2. meson setup DIR (reconfigured if it exists; default DIR: build) and ninja -C DIR
  3. taskset -c N DIR/qkbench bench --out results/<machine>/<UTC timestamp>.json [args...]
     (N defaults to 1, or 0 on a one-CPU machine; unpinned, with a warning, without taskset)
  4. scripts/summarize.py on that file: printed, and saved beside it as <timestamp>.md
  --quick        fewer repetitions (4) and --benchmark_min_time=0.05 (qkbench bench --quick)
  --no-setup     skip the package check
  --build-dir D  build directory (default: build)
  --cpu N        core to pin to
  Other arguments go to `qkbench bench` (see `qkbench bench --help`), e.g.
    scripts/bench.sh --quick --filter 'avx512' --hot
    scripts/bench.sh -- --benchmark_repetitions=10
TXT
}

setup=1 build_dir=build cpu= pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --quick) pass+=(--quick) ;;
    --no-setup) setup=0 ;;
    --build-dir) [[ $# -ge 2 ]] || { echo "bench.sh: --build-dir needs a directory" >&2; exit 2; }
                 build_dir=$2; shift ;;
    --cpu) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || { echo "bench.sh: --cpu needs a core number" >&2; exit 2; }
           cpu=$2; shift ;;
    --) shift; pass+=("$@"); break ;;
    *) pass+=("$1") ;;
  esac
  shift
done

if [[ $setup == 1 ]]; then
  if ! scripts/setup.sh --no-arm; then
    echo "bench.sh: some packages are missing (see above); trying to build with what is installed" >&2
  fi
fi

if [[ -f $build_dir/build.ninja ]]; then
  meson setup --reconfigure "$build_dir" >/dev/null
else
  meson setup "$build_dir" >/dev/null
fi
ninja -C "$build_dir" >/dev/null
exe=$build_dir/qkbench
if ! "$exe" bench --help >/dev/null 2>&1; then
  echo "bench.sh: $exe has no bench subcommand: Google Benchmark was not found at configure time" >&2
  echo "bench.sh: install libbenchmark-dev (scripts/setup.sh) and run again" >&2
  exit 1
fi

machine=$("$exe" bench --machine)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=results/$machine/$stamp.json
mkdir -p "results/$machine"

run=("$exe" bench --out "$out" "${pass[@]}")
if command -v taskset >/dev/null 2>&1; then
  if [[ -z $cpu ]]; then
    if [[ $(nproc) -gt 1 ]]; then cpu=1; else cpu=0; fi
  fi
  run=(taskset -c "$cpu" "${run[@]}")
else
  echo "bench.sh: taskset not found (util-linux): running unpinned, expect noisier numbers" >&2
fi
echo "bench.sh: ${run[*]}" >&2
"${run[@]}"

if [[ ! -s $out ]]; then
  echo "bench.sh: no results file was written ($out)" >&2
  exit 1
fi
python3 scripts/summarize.py --format markdown --out "results/$machine/$stamp.md" "$out" >/dev/null
python3 scripts/summarize.py "$out"
echo "bench.sh: results in $out, summary in results/$machine/$stamp.md" >&2
