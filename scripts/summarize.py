#!/usr/bin/env python3
"""Summary table of a `qkbench bench` results file.

Per shape: each implementation's median time per run, GOPS (2*M*N*K / median), speedup against the
reference variant and against each XNNPACK peer (>1 = faster than it), and skipped rows with their
reason. Then, per implementation, the sum over the model's pointwise GEMMs, each weighted by the
number of layers that share it (the context's qkb_shape_counts), i.e. the model's pointwise time.
Standard library only.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkb_results as qr  # noqa: E402

PW_RE = re.compile(r"_pw\d+_M")


def newest_json(directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(".json"))
    if not files:
        raise qr.ResultsError(f"{directory}: no .json results in this directory")
    return os.path.join(directory, files[-1])


def render(rows, header, fmt, align):
    """rows: list of lists of str. align: string of 'l'/'r' per column."""
    if fmt == "markdown":
        out = ["| " + " | ".join(header) + " |",
               "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    def line(r):
        cells = [(c.rjust(w) if a == "r" else c.ljust(w)) for c, w, a in zip(r, widths, align)]
        return "  " + "  ".join(cells).rstrip()
    return [line(header), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def ratio(num, den):
    if num is None or den is None or den <= 0:
        return "-"
    return f"{num / den:.2f}x"


def pick_reference(res, wanted):
    impls = {b.impl for b in res.benches.values()}
    if wanted:
        if wanted not in impls:
            raise qr.ResultsError(f"{res.path}: no implementation named '{wanted}' "
                                  f"(have: {', '.join(sorted(impls))})")
        return wanted
    scalar = sorted(i for i in impls if i.startswith("qk_") and i.endswith("__scalar"))
    return scalar[0] if scalar else None


def summarize(res, fmt, reference):
    ctx = res.context
    out = []
    h = "## " if fmt == "markdown" else ""
    out.append(f"{h}qkbench summary: {res.path}")
    reps = max((len(b.samples) for b in res.benches.values()), default=0)
    info = [
        ("cpu", f"{ctx.get('qk_cpu', '?')} [{ctx.get('qk_cpu_features', '')}]"),
        ("pinned", ctx.get("pinned_cpus", "?")),
        ("date", ctx.get("date", "?")),
        ("commit", ctx.get("git_commit", "?")),
        ("compiler", f"C {ctx.get('compiler_c', '?')}, C++ {ctx.get('compiler_cxx', '?')}"),
        ("dispatch", ctx.get("qk_dispatch_fc_int8", "?") + f" (QK_ISA cap {ctx.get('qk_isa_cap', '?')})"),
        ("weights", ctx.get("qkb_weights", "?")),
        ("timing", f"{res.timer}, median of {reps} repetition(s); GOPS = 2*M*N*K / median"),
        ("peers", ctx.get("qkb_peers", "none")),
        ("ref", f"{reference or 'none'} (vs ref = its time / this time; vs <peer> likewise, >1 = faster)"),
    ]
    for k, v in info:
        out.append(f"- {k}: {v}" if fmt == "markdown" else f"{k:>9}: {v}")
    out.append("")

    by_shape = {}
    for b in sorted(res.benches.values(),
                    key=lambda b: b.family_index if b.family_index is not None else 1 << 30):
        by_shape.setdefault(b.shape, []).append(b)
    peers = sorted({b.impl for b in res.benches.values() if b.is_peer})
    header = ["implementation", "median", "GOPS", "vs ref"] + [f"vs {p}" for p in peers]
    align = "lrrr" + "r" * len(peers)
    counts = res.shape_counts()

    for shape, benches in by_shape.items():
        n = counts.get(shape, 1)
        title = f"{shape}" + (f" (x{n} layers)" if n > 1 else "")
        out.append(f"### {title}" if fmt == "markdown" else title)
        medians = {b.impl: b.median_ns for b in benches if b.ok}
        ref = medians.get(reference)
        rows, skipped = [], []
        for b in sorted((b for b in benches if b.ok), key=lambda b: b.median_ns):
            t = b.median_ns
            row = [b.impl, qr.fmt_time(t), f"{b.ops / t:.2f}" if t else "-", ratio(ref, t)]
            row += [ratio(medians.get(p), t) for p in peers]
            rows.append(row)
        for b in benches:
            if not b.ok:
                why = b.error or "no timing"
                skipped.append(f"{b.impl}: {why[len('skipped: '):] if why.startswith('skipped: ') else why}")
        if rows:
            out += render(rows, header, fmt, align)
        for s in skipped:
            out.append(f"- skipped {s}" if fmt == "markdown" else f"  skipped {s}")
        out.append("")

    # The pointwise set, weighted by how many layers share each GEMM.
    pw_shapes = [s for s in by_shape if PW_RE.search(s)]
    if pw_shapes:
        layers = sum(counts.get(s, 1) for s in pw_shapes)
        title = (f"pointwise set: {len(pw_shapes)} distinct GEMMs = {layers} layers, "
                 f"each median weighted by its layer count")
        out.append(f"### {title}" if fmt == "markdown" else title)
        impls = sorted({b.impl for s in pw_shapes for b in by_shape[s]})
        totals, incomplete = {}, []
        for impl in impls:
            t, ops, have = 0.0, 0.0, 0
            for s in pw_shapes:
                b = next((b for b in by_shape[s] if b.impl == impl), None)
                if b is not None and b.ok:
                    w = counts.get(s, 1)
                    t += w * b.median_ns
                    ops += w * b.ops
                    have += 1
            if have == len(pw_shapes):
                totals[impl] = (t, ops)
            else:
                incomplete.append(f"{impl}: {have} of {len(pw_shapes)} shapes timed")
        rows = []
        ref_t = totals.get(reference, (None,))[0]
        for impl, (t, ops) in sorted(totals.items(), key=lambda kv: kv[1][0]):
            row = [impl, qr.fmt_time(t), f"{ops / t:.2f}", ratio(ref_t, t)]
            row += [ratio(totals.get(p, (None,))[0], t) for p in peers]
            rows.append(row)
        if rows:
            out += render(rows, ["implementation", "sum"] + header[2:], fmt, align)
        for s in incomplete:
            out.append(f"- no sum for {s}" if fmt == "markdown" else f"  no sum for {s}")
        out.append("")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Summary table of a qkbench bench results file (Google Benchmark JSON): per shape "
                    "median time, GOPS, speedup vs the reference variant and vs XNNPACK peers, and "
                    "per-implementation sums over the pointwise layers.")
    ap.add_argument("results", help="results JSON, or a results/<machine>/ directory (newest file)")
    ap.add_argument("--format", choices=("text", "markdown"), default="text")
    ap.add_argument("--reference", metavar="NAME",
                    help="implementation speedups are measured against (default: the __scalar variant)")
    ap.add_argument("--time", choices=("cpu", "real"),
                    help="which time to use (default: the run's qkb_timer, else cpu)")
    ap.add_argument("--out", metavar="FILE", help="also write the summary to FILE")
    args = ap.parse_args(argv)
    try:
        path = newest_json(args.results) if os.path.isdir(args.results) else args.results
        res = qr.load(path, timer=f"{args.time}_time" if args.time else None)
        reference = pick_reference(res, args.reference)
        text = summarize(res, args.format, reference)
    except qr.ResultsError as e:
        print(f"summarize.py: {e}", file=sys.stderr)
        return 2
    print(text)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as e:
            print(f"summarize.py: cannot write {args.out}: {e.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
