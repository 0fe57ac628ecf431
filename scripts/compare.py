#!/usr/bin/env python3
"""Regression check between two `qkbench bench` results files.

For every benchmark in both files: the median of each side's repetitions, the relative delta
(new - base) / base, and a two-sided Mann-Whitney U test over the repetitions (normal
approximation with tie and continuity correction; pure Python, no scipy needed). A benchmark is a
regression when the test is significant (p < --alpha) AND it is slower by more than --threshold.
Exit status: 0 no significant slowdown, 1 at least one, 2 bad input or runs that must not be
compared (different CPU or compiler in the context block) unless --force.
"""

import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkb_results as qr  # noqa: E402

# Context keys that must agree for timings to be comparable.
MUST_MATCH = ("qk_cpu", "compiler_c", "compiler_cxx")
# Keys reported when they differ (they may be the point of the comparison).
SHOW_IF_DIFFERENT = ("git_commit", "build_flags", "qk_isa_cap", "qk_dispatch_fc_int8", "qkb_weights",
                     "qkb_timer", "pinned_cpus", "qkb_peers", "qkb_seed")


def mann_whitney_u(a, b):
    """Two-sided Mann-Whitney U test, normal approximation. Returns (U of a, p-value)."""
    n1, n2 = len(a), len(b)
    if n1 < 1 or n2 < 1:
        raise ValueError("both samples need at least one value")
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2.0 + 1.0  # average rank of the tie group, 1-based
        for k in range(i, j + 1):
            ranks[k] = rank
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    r1 = sum(r for r, (_, side) in zip(ranks, pooled) if side == 0)
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mu = n1 * n2 / 2.0
    n = n1 + n2
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return u1, 1.0
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)  # continuity correction
    z = max(z, 0.0)
    p = math.erfc(z / math.sqrt(2.0))  # two-sided
    return u1, min(1.0, p)


def best_attainable_p(n1, n2):
    """The smallest p the test can give for these sample sizes (complete separation, no ties)."""
    if n1 < 1 or n2 < 1:
        return 1.0
    return mann_whitney_u(list(range(n1)), list(range(n1, n1 + n2)))[1]


def check_context(base, new, force):
    problems, notes = [], []
    for k in MUST_MATCH:
        a, b = base.context.get(k), new.context.get(k)
        if a != b:
            problems.append(f"{k}: '{a}' vs '{b}'")
    for k in SHOW_IF_DIFFERENT:
        a, b = base.context.get(k), new.context.get(k)
        if a != b:
            notes.append(f"{k}: '{a}' -> '{b}'")
    if base.timer != new.timer:
        problems.append(f"timer: {base.timer} vs {new.timer}")
    return problems, notes


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Regression check between two qkbench results files: per-benchmark median delta "
                    "and a Mann-Whitney U test over repetitions. Exit 1 on a statistically significant "
                    "slowdown larger than the threshold.")
    ap.add_argument("base", help="baseline results JSON")
    ap.add_argument("new", help="candidate results JSON")
    ap.add_argument("--threshold", type=float, default=0.05,
                    help="relative slowdown that counts as a regression (default 0.05 = 5%%)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    ap.add_argument("--filter", metavar="REGEX", help="only benchmarks whose name matches")
    ap.add_argument("--time", choices=("cpu", "real"), help="time to compare (default: the runs' qkb_timer)")
    ap.add_argument("--force", action="store_true",
                    help="compare even if the CPU or compiler in the context blocks differ")
    ap.add_argument("--all", action="store_true", help="list unchanged benchmarks too")
    args = ap.parse_args(argv)
    if not (0 <= args.threshold < 10):
        ap.error("--threshold must be in [0, 10)")
    if not (0 < args.alpha < 1):
        ap.error("--alpha must be in (0, 1)")
    try:
        rx = re.compile(args.filter) if args.filter else None
    except re.error as e:
        ap.error(f"--filter: {e}")
    timer = f"{args.time}_time" if args.time else None
    try:
        base = qr.load(args.base, timer)
        new = qr.load(args.new, timer)
    except qr.ResultsError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2

    problems, notes = check_context(base, new, args.force)
    if problems:
        print(("compare.py: warning" if args.force else "compare.py: refusing to compare") +
              ": the runs differ in " + "; ".join(problems), file=sys.stderr)
        if not args.force:
            print("compare.py: timings from different CPUs or compilers are not comparable; "
                  "pass --force to compare anyway", file=sys.stderr)
            return 2
    for n in notes:
        print(f"note: {n}")

    names = [n for n in base.benches if n in new.benches and (rx is None or rx.search(n))]
    only_base = [n for n in base.benches if n not in new.benches and (rx is None or rx.search(n))]
    only_new = [n for n in new.benches if n not in base.benches and (rx is None or rx.search(n))]
    if not names:
        print("compare.py: the files have no benchmark in common" +
              (" matching --filter" if rx else ""), file=sys.stderr)
        return 2

    rows, regressions, low_power = [], [], set()
    for name in names:
        a, b = base.benches[name], new.benches[name]
        if not a.ok or not b.ok:
            rows.append((name, "-", "-", "-", "-", "skipped: " + (b.error or a.error or "no timing")))
            continue
        ma, mb = a.median_ns, b.median_ns
        delta = (mb - ma) / ma
        if len(a.samples) >= 2 and len(b.samples) >= 2:
            _, p = mann_whitney_u(a.samples, b.samples)
            ptxt = f"{p:.4f}"
            if best_attainable_p(len(a.samples), len(b.samples)) >= args.alpha:
                low_power.add((len(a.samples), len(b.samples)))
        else:
            p, ptxt = None, "n/a"
            low_power.add((len(a.samples), len(b.samples)))
        significant = p is not None and p < args.alpha
        if significant and delta > args.threshold:
            verdict = "SLOWER"
            regressions.append(name)
        elif significant and delta < -args.threshold:
            verdict = "faster"
        elif significant:
            verdict = "within threshold"
        else:
            verdict = "no significant change" if p is not None else "no repetitions to test"
        if args.all or verdict not in ("no significant change", "within threshold"):
            rows.append((name, qr.fmt_time(ma), qr.fmt_time(mb), f"{delta:+.1%}", ptxt, verdict))

    header = ("benchmark", "base median", "new median", "delta", "p (U test)", "verdict")
    if rows:
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        fmt = lambda r: "  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        print(fmt(header))
        print("  ".join("-" * w for w in widths))
        for r in rows:
            print(fmt(r))
    unchanged = len(names) - len(rows)
    print(f"\n{len(names)} benchmarks compared ({base.timer}), threshold {args.threshold:.1%}, "
          f"alpha {args.alpha}: {len(regressions)} significant slowdown(s)"
          + (f", {unchanged} unchanged not listed (--all lists them)" if unchanged and not args.all else ""))
    for n1, n2 in sorted(low_power):
        best = best_attainable_p(n1, n2) if n1 and n2 else 1.0
        print(f"warning: with {n1} vs {n2} repetitions the smallest attainable p is {best:.3f}; "
              f"the U test cannot reach alpha {args.alpha} — run more repetitions "
              f"(qkbench bench --benchmark_repetitions=N)", file=sys.stderr)
    if only_base:
        print(f"only in {args.base}: {len(only_base)} benchmark(s), e.g. {only_base[0]}")
    if only_new:
        print(f"only in {args.new}: {len(only_new)} benchmark(s), e.g. {only_new[0]}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
