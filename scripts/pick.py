#!/usr/bin/env python3
"""Kernel-pick table from a `qkbench bench` results file.

For every (op, path, M, K, N) it picks the fastest qkbench variant (lowest median) among the
variants proven exact. Exactness comes from --verified FILE, either `qkbench verify` output (a
variant counts when its line reports cases, 0 failed and 0 mistrusted) or a plain list of variant
names, one per line; without --verified every variant in the results is taken as verified (say so
only when the exactness suite passed for this build). XNNPACK peers are never picked: a runtime
cannot dispatch to them.

Output (stdout or --out): text, one pick per line, '#' comments —
    # op path M K N variant median_ns
    fc int8 12544 16 96 qk_int8_fc_4x64c4__avx512vnni 123456.7
or JSON ({"format": "qkbench-kernel-picks", "version": 1, "picks": [...]}).
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkb_results as qr  # noqa: E402

VERIFY_LINE = re.compile(r"^(qk_\S+)\s+(\d+) cases\s+(\d+) passed\s+(\d+) failed\s+(\d+) mistrusted\s*$")
NAME_LINE = re.compile(r"^(qk_[A-Za-z0-9_]+)\s*$")


def read_verified(path):
    """Variant names that passed, from `qkbench verify` output or a list of names."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise qr.ResultsError(f"{path}: cannot read: {e.strerror}") from None
    passed, failed, untested = set(), set(), set()
    for line in lines:
        m = VERIFY_LINE.match(line)
        if m:
            name, cases, nfail, nmis = m.group(1), int(m.group(2)), int(m.group(4)), int(m.group(5))
            if nfail or nmis:
                failed.add(name)
            elif cases == 0:
                untested.add(name)
            else:
                passed.add(name)
            continue
        m = NAME_LINE.match(line)
        if m:
            passed.add(m.group(1))
    passed -= failed | untested
    if not passed and not failed and not untested:
        raise qr.ResultsError(f"{path}: no variant names and no `qkbench verify` result lines found")
    return passed, failed, untested


def pick(res, verified):
    groups = {}
    for b in res.benches.values():
        if b.is_peer or not b.ok or not b.m:
            continue
        if verified is not None and b.impl not in verified:
            continue
        groups.setdefault((b.op, b.path, b.m, b.k, b.n), []).append(b)
    picks = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda b: b.median_ns)
        best = ranked[0]
        picks.append({
            "op": key[0], "path": key[1], "m": key[2], "k": key[3], "n": key[4],
            "shape": best.shape, "variant": best.impl, "median_ns": round(best.median_ns, 3),
            "runner_up": ranked[1].impl if len(ranked) > 1 else None,
            "margin": round(ranked[1].median_ns / best.median_ns - 1.0, 4) if len(ranked) > 1 else None,
        })
    return picks


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Pick the fastest exact variant per (op, shape) from a qkbench results file and "
                    "write a kernel-pick table a runtime can load.")
    ap.add_argument("results", help="results JSON from qkbench bench")
    ap.add_argument("--verified", metavar="FILE",
                    help="`qkbench verify` output or a list of variant names that passed the exactness suite")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument("--out", metavar="FILE", help="write the table here (default: stdout)")
    ap.add_argument("--time", choices=("cpu", "real"), help="time to rank by (default: the run's qkb_timer)")
    args = ap.parse_args(argv)
    try:
        res = qr.load(args.results, f"{args.time}_time" if args.time else None)
        verified, failed, untested = None, set(), set()
        if args.verified:
            verified, failed, untested = read_verified(args.verified)
        else:
            print("pick.py: no --verified file: taking every variant in the results as exact",
                  file=sys.stderr)
        picks = pick(res, verified)
    except qr.ResultsError as e:
        print(f"pick.py: {e}", file=sys.stderr)
        return 2
    timed = {b.impl for b in res.benches.values() if b.ok}
    if failed & timed:
        print(f"pick.py: excluded (failed or mistrusted cases): {', '.join(sorted(failed & timed))}",
              file=sys.stderr)
    if untested & timed:
        print(f"pick.py: excluded (0 exactness cases ran): {', '.join(sorted(untested & timed))}",
              file=sys.stderr)
    if not picks:
        print(f"pick.py: {args.results}: no timed, verified qkbench variant to pick from", file=sys.stderr)
        return 2
    ctx = res.context
    meta = {"source": os.path.basename(args.results), "cpu": ctx.get("qk_cpu", "?"),
            "features": ctx.get("qk_cpu_features", ""), "commit": ctx.get("git_commit", "?"),
            "timer": res.timer, "weights": ctx.get("qkb_weights", "?")}
    if args.format == "json":
        text = json.dumps({"format": "qkbench-kernel-picks", "version": 1, **meta, "picks": picks}, indent=1)
    else:
        lines = ["# qkbench kernel picks v1"]
        lines += [f"# {k}: {v}" for k, v in meta.items()]
        lines.append("# op path M K N variant median_ns")
        lines += [f"{p['op']} {p['path']} {p['m']} {p['k']} {p['n']} {p['variant']} {p['median_ns']}"
                  for p in picks]
        text = "\n".join(lines)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as e:
            print(f"pick.py: cannot write {args.out}: {e.strerror}", file=sys.stderr)
            return 2
        print(f"pick.py: {len(picks)} picks -> {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
