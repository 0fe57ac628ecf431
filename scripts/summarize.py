#!/usr/bin/env python3
"""Summary table of a `qkbench bench` results file.

Per op family and shape: each implementation's median time per run, GOPS (ops per iteration /
median: 2*M*N*K for GEMMs and convolutions, the "ops" counter otherwise), speedup against the
family's scalar reference variant and against each XNNPACK peer (>1 = faster than it), and skipped
rows with their reason. Then per-op sums per implementation over the model (pointwise GEMMs,
pointwise convs, stem, depthwise, residual adds), each shape weighted by the number of layers that
share it (the context's qkb_shape_counts). Last, the whole-network chain rows: total per ISA cap
and for XNNPACK with speedups, and the per-layer rows summed by layer kind. Standard library only.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkb_results as qr  # noqa: E402

PW_RE = re.compile(r"_pw\d+_M")
STEM_RE = re.compile(r"_conv\d+_")


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


def family_reference(impls, wanted):
    """The implementation speedups are measured against within one family."""
    if wanted:
        return wanted if wanted in impls else None
    scalar = sorted(i for i in impls if i.startswith("qk_") and i.endswith("__scalar"))
    return scalar[0] if scalar else None


def pick_reference(res, wanted):
    """Checks --reference; returns {family: reference implementation or None}."""
    benches = [b for b in res.benches.values() if not b.is_chain]
    if wanted and wanted not in {b.impl for b in benches}:
        raise qr.ResultsError(f"{res.path}: no implementation named '{wanted}' "
                              f"(have: {', '.join(sorted({b.impl for b in benches}))})")
    families = {}
    for b in benches:
        families.setdefault(b.family, set()).add(b.impl)
    return {f: family_reference(impls, wanted) for f, impls in families.items()}


def table_title(family, shape, n, fmt):
    title = shape if family == "fc_int8" else f"{family} {shape}"
    title += f" (x{n} layers)" if n > 1 else ""
    return f"### {title}" if fmt == "markdown" else title


def sum_section(title, shapes, by_key, counts, reference, fmt):
    """Per implementation: the medians over shapes, each weighted by its layer count; only
    implementations timed on every shape get a sum."""
    out = [f"### {title}" if fmt == "markdown" else title]
    impls = sorted({b.impl for k in shapes for b in by_key[k]})
    peers = sorted(i for i in impls if not i.startswith("qk_"))
    totals, incomplete = {}, []
    for impl in impls:
        t, ops, have = 0.0, 0.0, 0
        for k in shapes:
            b = next((b for b in by_key[k] if b.impl == impl), None)
            if b is not None and b.ok:
                w = counts.get(k[1], 1)
                t += w * b.median_ns
                ops += w * b.ops
                have += 1
        if have == len(shapes):
            totals[impl] = (t, ops)
        elif any(b.impl == impl and b.ok for k in shapes for b in by_key[k]):
            incomplete.append(f"{impl}: {have} of {len(shapes)} shapes timed")
    rows = []
    ref_t = totals.get(reference, (None,))[0]
    for impl, (t, ops) in sorted(totals.items(), key=lambda kv: kv[1][0]):
        row = [impl, qr.fmt_time(t), f"{ops / t:.2f}" if t else "-", ratio(ref_t, t)]
        row += [ratio(totals.get(p, (None,))[0], t) for p in peers]
        rows.append(row)
    if rows:
        out += render(rows, ["implementation", "sum", "GOPS", "vs ref"] + [f"vs {p}" for p in peers], fmt,
                      "lrrr" + "r" * len(peers))
    for s in incomplete:
        out.append(f"- no sum for {s}" if fmt == "markdown" else f"  no sum for {s}")
    out.append("")
    return out


PATH_ORDER = ("int8", "i16x8", "f32", "f16w", "dynamic", "f16")
# Per-op sums: (op, shape filter, what it sums); one section per <op>_<path> family present.
OP_SETS = (
    ("fc", PW_RE, "pointwise set"),
    ("conv2d", PW_RE, "pointwise total"),
    ("conv2d", STEM_RE, "stem total"),
    ("dwconv2d", None, "depthwise total"),
    ("add", None, "residual add total"),
    ("addpot", None, "residual add total, power-of-two scales"),
)
OP_DETAIL = {("fc", "pointwise set"): "1x1 convs as GEMMs", ("conv2d", "pointwise total"): "1x1 convs"}


def split_family(family):
    op, _, path = family.rpartition("_")
    return (op, path) if op else (family, "")


def path_rank(path):
    return PATH_ORDER.index(path) if path in PATH_ORDER else len(PATH_ORDER)


def op_sets(families):
    """(family, shape filter, section name) for every per-op sum, int8 first, then path order."""
    sets = []
    for op, pattern, what in OP_SETS:
        fams = sorted((f for f in families if split_family(f)[0] == op), key=lambda f: path_rank(split_family(f)[1]))
        for fam in fams:
            detail = ", ".join(x for x in (fam, OP_DETAIL.get((op, what))) if x)
            sets.append((fam, pattern, f"{what} ({detail})"))
    return sets


def weighted_sums(shapes, by_key, counts):
    """{implementation: weighted sum of medians} for implementations timed on every shape."""
    sums = {}
    for impl in {b.impl for k in shapes for b in by_key[k]}:
        t, have = 0.0, 0
        for k in shapes:
            b = next((b for b in by_key[k] if b.impl == impl), None)
            if b is not None and b.ok:
                t += counts.get(k[1], 1) * b.median_ns
                have += 1
        if have == len(shapes):
            sums[impl] = t
    return sums


def peer_group(impl):
    """xnnpack_f32_conv1x1 -> 'xnnpack f32'; int8 peers (qs8 / qc8) -> 'xnnpack int8'."""
    parts = impl.split("_")
    if len(parts) < 2:
        return impl
    kind = "int8" if parts[1] in ("qs8", "qc8") else parts[1]
    return f"{parts[0]} {kind}"


# Columns of the per-path table: (title, op, shape filter).
PATH_COLUMNS = (
    ("pointwise conv", "conv2d", PW_RE),
    ("pointwise GEMM", "fc", PW_RE),
    ("stem", "conv2d", STEM_RE),
    ("depthwise", "dwconv2d", None),
    ("add", "add", None),
    ("add pot", "addpot", None),
)


def paths_section(by_key, counts, fmt):
    """One row per path (its fastest variant per op, weighted over the model's layers) and per peer
    group, one column per op set; then the same as ratios against the int8 row (>1 = faster)."""
    cells = {}  # (row, column) -> (time, implementation)
    for title, op, pattern in PATH_COLUMNS:
        for fam in {k[0] for k in by_key if split_family(k[0])[0] == op}:
            shapes = [k for k in by_key if k[0] == fam and (pattern is None or pattern.search(k[1]))]
            if not shapes:
                continue
            path = split_family(fam)[1]
            for impl, t in weighted_sums(shapes, by_key, counts).items():
                row = path if impl.startswith("qk_") else peer_group(impl)
                if (row, title) not in cells or t < cells[(row, title)][0]:
                    cells[(row, title)] = (t, impl)
    rows_seen = {r for r, _ in cells}
    if len({r for r in rows_seen if r in PATH_ORDER}) < 2:
        return []
    columns = [c for c, _, _ in PATH_COLUMNS if any((r, c) in cells for r in rows_seen)]
    order = sorted(rows_seen, key=lambda r: (r not in PATH_ORDER, path_rank(r), r))
    h = "### " if fmt == "markdown" else ""
    out = [f"{h}per path: fastest variant per op (peers: per XNNPACK datatype), summed over the model's layers"]
    out += render([[r] + [qr.fmt_time(cells[(r, c)][0]) if (r, c) in cells else "-" for c in columns] for r in order],
                  ["path"] + columns, fmt, "l" + "r" * len(columns))
    out.append("")
    if any(("int8", c) in cells for c in columns):
        out.append(f"{h}per path vs int8 (int8 time / this time, >1 = faster than int8)")
        rows = [[r] + [ratio(cells[("int8", c)][0] if ("int8", c) in cells else None,
                             cells[(r, c)][0] if (r, c) in cells else None) for c in columns] for r in order]
        out += render(rows, ["path"] + columns, fmt, "l" + "r" * len(columns))
        out.append("")
    return out


FC_RE = re.compile(r"_fc\d+_M\d+_K\d+_N\d+$")


def fc_batch1_section(by_key, fmt):
    """The model's classifier: the fastest variant of each path and each peer, vs the fastest f32."""
    labels = sorted({k[1] for k in by_key if split_family(k[0])[0] == "fc" and FC_RE.search(k[1])})
    out = []
    h = "### " if fmt == "markdown" else ""
    for label in labels:
        best = {}
        for (fam, shape), benches in by_key.items():
            if shape != label or split_family(fam)[0] != "fc":
                continue
            for b in benches:
                if not b.ok:
                    continue
                row = split_family(fam)[1] if not b.is_peer else b.impl
                if row not in best or b.median_ns < best[row].median_ns:
                    best[row] = b
        if len(best) < 2:
            continue
        f32 = best.get("f32")
        order = sorted(best, key=lambda r: (r not in PATH_ORDER, path_rank(r), r))
        rows = [[r, best[r].impl if r in PATH_ORDER else "(peer)", qr.fmt_time(best[r].median_ns),
                 ratio(f32.median_ns if f32 else None, best[r].median_ns)] for r in order]
        out.append(f"{h}classifier {label}: fastest per path (vs f32 = f32 time / this time)")
        out += render(rows, ["path", "implementation", "median", "vs f32"], fmt, "llrr")
        out.append("")
    return out


LAYER_RE = re.compile(r"^layer(\d+)_([a-z]+)$")
KIND_ORDER = ("conv", "pw", "dw", "add", "gap", "fc")


def chain_section(res, fmt):
    """Chain totals (chain_int8 and the other paths' chain_<path>, per ISA cap and XNNPACK; vs int8: the
    chain_int8 row of the same cap) and the per-kind sums of the per-layer rows."""
    chain = [b for b in res.benches.values() if b.is_chain]
    if not chain:
        return []
    h = "### " if fmt == "markdown" else ""
    out = []
    families = sorted({b.family for b in chain if b.shape == "total"}, key=lambda f: (f != "chain_int8", f))
    out.append(f"{h}whole network ({', '.join(families)}): every layer back to back, single thread")
    int8 = {b.impl: b for b in chain if b.shape == "total" and b.family == "chain_int8" and b.ok}
    rows, skipped = [], []
    for fam in families:
        totals = {b.impl: b for b in chain if b.shape == "total" and b.family == fam}
        prefix = "" if fam == "chain_int8" else fam[len("chain_"):] + "/"
        xnn = totals.get("xnnpack")
        xnn_t = xnn.median_ns if xnn is not None and xnn.ok else None
        scalar = totals.get("scalar")
        scalar_t = scalar.median_ns if scalar is not None and scalar.ok else None
        for b in sorted((b for b in totals.values() if b.ok), key=lambda b: b.median_ns):
            t = b.median_ns
            i8 = int8.get(b.impl)
            rows.append([prefix + b.impl, qr.fmt_time(t), f"{b.ops / t:.2f}" if t and b.ops else "-",
                         ratio(xnn_t, t), ratio(scalar_t, t), ratio(i8.median_ns if i8 else None, t), b.label])
        for b in totals.values():
            if not b.ok:
                why = b.error or "no timing"
                skipped.append(f"{prefix}{b.impl}: {why[len('skipped: '):] if why.startswith('skipped: ') else why}")
    if rows:
        out += render(rows, ["chain", "median", "GOPS", "vs xnnpack", "vs scalar", "vs int8", "kernels"], fmt,
                      "lrrrrrl")
    for s in skipped:
        out.append(f"- skipped {s}" if fmt == "markdown" else f"  skipped {s}")
    out.append("")

    # Per-layer rows: sums per layer kind, per chain.
    per = {}
    nlayers = {}
    for b in chain:
        m = LAYER_RE.match(b.shape)
        if not m:
            continue
        nlayers.setdefault(b.impl, set()).add(int(m.group(1)))
        d = per.setdefault(b.impl, {})
        if b.ok:
            d.setdefault(m.group(2), []).append(b.median_ns)
        else:
            d.setdefault("_missing", []).append(b.shape)
    if per:
        kinds = [k for k in KIND_ORDER if any(k in d for d in per.values())]
        kinds += sorted({k for d in per.values() for k in d if k not in kinds and not k.startswith("_")})
        out.append(f"{h}per-layer rows summed by kind (each layer timed alone on the chain's buffers)")
        rows = []
        order = sorted(per, key=lambda i: (totals[i].median_ns if i in totals and totals[i].ok else float("inf")))
        for impl in order:
            d = per[impl]
            if "_missing" in d:
                rows.append([impl] + ["-"] * (len(kinds) + 2))
                continue
            cells = [qr.fmt_time(sum(d[k])) if k in d else "-" for k in kinds]
            layer_sum = sum(sum(v) for k, v in d.items())
            total = totals.get(impl)
            cells += [qr.fmt_time(layer_sum), qr.fmt_time(total.median_ns) if total is not None and total.ok else "-"]
            rows.append([impl] + cells)
        header = ["chain"] + [f"{k} ({sum(1 for _ in next(iter(per.values())).get(k, []))})" for k in kinds]
        header += ["sum of layers", "total"]
        out += render(rows, header, fmt, "l" + "r" * (len(kinds) + 2))
        out.append("")
    return out


def summarize(res, fmt, references, wanted_reference=None):
    ctx = res.context
    out = []
    h = "## " if fmt == "markdown" else ""
    out.append(f"{h}qkbench summary: {res.path}")
    reps = max((len(b.samples) for b in res.benches.values()), default=0)
    refs = sorted({r for r in references.values() if r})
    info = [
        ("cpu", f"{ctx.get('qk_cpu', '?')} [{ctx.get('qk_cpu_features', '')}]"),
        ("pinned", ctx.get("pinned_cpus", "?")),
        ("date", ctx.get("date", "?")),
        ("commit", ctx.get("git_commit", "?")),
        ("compiler", f"C {ctx.get('compiler_c', '?')}, C++ {ctx.get('compiler_cxx', '?')}"),
        ("dispatch", ctx.get("qk_dispatch_fc_int8", "?") + f" (QK_ISA cap {ctx.get('qk_isa_cap', '?')})"),
        ("weights", ctx.get("qkb_weights", "?")),
        ("timing", f"{res.timer}, median of {reps} repetition(s); GOPS = ops per iteration / median"),
        ("peers", ctx.get("qkb_peers", "none")),
        ("ref", f"{', '.join(refs) or 'none'} (vs ref = its time / this time; vs <peer> likewise, >1 = faster)"),
    ]
    for k, v in info:
        out.append(f"- {k}: {v}" if fmt == "markdown" else f"{k:>9}: {v}")
    out.append("")

    by_key = {}
    for b in sorted((b for b in res.benches.values() if not b.is_chain),
                    key=lambda b: b.family_index if b.family_index is not None else 1 << 30):
        by_key.setdefault((b.family, b.shape), []).append(b)
    counts = res.shape_counts()

    for (family, shape), benches in by_key.items():
        reference = references.get(family)
        peers = sorted({b.impl for b in benches if b.is_peer})
        header = ["implementation", "median", "GOPS", "vs ref"] + [f"vs {p}" for p in peers]
        out.append(table_title(family, shape, counts.get(shape, 1), fmt))
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
            out += render(rows, header, fmt, "lrrr" + "r" * len(peers))
        for s in skipped:
            out.append(f"- skipped {s}" if fmt == "markdown" else f"  skipped {s}")
        out.append("")

    # Per-op sums over the model, each shape weighted by how many layers share it.
    def shapes_of(family, pattern=None):
        return [k for k in by_key if k[0] == family and (pattern is None or pattern.search(k[1]))]

    families = {k[0] for k in by_key}
    for family, pattern, name in op_sets(families):
        shapes = shapes_of(family, pattern)
        if not shapes:
            continue
        layers = sum(counts.get(k[1], 1) for k in shapes)
        if family == "fc_int8":
            title = (f"pointwise set: {len(shapes)} distinct GEMMs = {layers} layers, "
                     f"each median weighted by its layer count")
        else:
            title = f"{name}: {len(shapes)} distinct shapes = {layers} layers, each median weighted by its layer count"
        out += sum_section(title, shapes, by_key, counts, references.get(family), fmt)

    out += paths_section(by_key, counts, fmt)
    out += fc_batch1_section(by_key, fmt)
    out += chain_section(res, fmt)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Summary table of a qkbench bench results file (Google Benchmark JSON): per op and "
                    "shape median time, GOPS, speedup vs the reference variant and vs XNNPACK peers; "
                    "per-implementation sums over the model's pointwise, depthwise and add layers; and the "
                    "whole-network chain totals per ISA cap vs XNNPACK with a per-layer-kind breakdown.")
    ap.add_argument("results", help="results JSON, or a results/<machine>/ directory (newest file)")
    ap.add_argument("--format", choices=("text", "markdown"), default="text")
    ap.add_argument("--reference", metavar="NAME",
                    help="implementation speedups are measured against (default: each op family's first "
                         "__scalar variant)")
    ap.add_argument("--time", choices=("cpu", "real"),
                    help="which time to use (default: the run's qkb_timer, else cpu)")
    ap.add_argument("--out", metavar="FILE", help="also write the summary to FILE")
    args = ap.parse_args(argv)
    try:
        path = newest_json(args.results) if os.path.isdir(args.results) else args.results
        res = qr.load(path, timer=f"{args.time}_time" if args.time else None)
        references = pick_reference(res, args.reference)
        text = summarize(res, args.format, references)
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
