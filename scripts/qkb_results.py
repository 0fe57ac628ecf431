"""Reading `qkbench bench` results (Google Benchmark JSON) for summarize.py, compare.py, pick.py.

Standard library only. A results file holds a "context" object (Google Benchmark's own keys plus
qkbench's: qk_cpu, compiler_c, qkb_timer, qkb_shape_counts, ...) and a "benchmarks" list with one
row per repetition ("run_type": "iteration") and, per benchmark, aggregate rows (mean, median,
stddev, cv). Benchmark names are <op>_<path>/<implementation>/<shape label>; GEMM-like shape labels
end in _M<m>_K<k>_N<n>, others (depthwise, add, pooling, converts, chain rows) carry an "ops"
counter with the per-iteration op count. Chain rows are chain_int8/<cap|xnnpack>/<total|layerNN_kind>.
"""

import json
import re
import statistics

TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
SHAPE_RE = re.compile(r"_M(\d+)_K(\d+)_N(\d+)$")
OPTION_SUFFIX_RE = re.compile(r"(/(repeats|iterations|min_time|min_warmup_time|real_time|manual_time|"
                              r"threads|process_time):[^/]*)+$")


class ResultsError(Exception):
    """A results file that cannot be used; the message says why."""


class Bench:
    """One benchmark: its repetition times (ns) or, failing those, its median aggregate."""

    def __init__(self, name):
        # Google Benchmark appends option components ("/repeats:1" on qkbench's skipped rows).
        name = OPTION_SUFFIX_RE.sub("", name)
        self.name = name
        parts = name.split("/")
        if len(parts) != 3:
            raise ResultsError(f"benchmark name '{name}' is not <op>_<path>/<implementation>/<shape>")
        self.family, self.impl, self.shape = parts
        op, _, path = self.family.partition("_")
        self.op, self.path = op, path or "?"
        m = SHAPE_RE.search(self.shape)
        self.m, self.k, self.n = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
        self.samples = []        # per-repetition time per iteration, ns
        self.agg_median = None   # ns, from a "median" aggregate row
        self.error = None        # error_message of a failed or skipped run
        self.label = ""
        self.family_index = None  # registration order (shape-major in qkbench)
        self.ops_counter = None   # "ops" counter: op count per iteration, when the row has one

    @property
    def is_peer(self):
        return not self.impl.startswith("qk_")

    @property
    def ok(self):
        return self.error is None and (self.samples or self.agg_median is not None)

    @property
    def median_ns(self):
        if self.samples:
            return statistics.median(self.samples)
        return self.agg_median

    @property
    def ops(self):
        if self.ops_counter is not None:
            return self.ops_counter
        return 2.0 * self.m * self.k * self.n

    @property
    def is_chain(self):
        return self.family.startswith("chain_")


class Results:
    def __init__(self, path, context, benches, timer):
        self.path = path
        self.context = context
        self.benches = benches  # name -> Bench, in file order
        self.timer = timer      # "cpu_time" or "real_time"

    def shape_counts(self):
        """label -> how many model layers share that GEMM (1 when not recorded)."""
        counts = {}
        for item in self.context.get("qkb_shape_counts", "").split():
            label, _, n = item.rpartition("=")
            if label and n.isdigit():
                counts[label] = int(n)
        return counts


def load(path, timer=None):
    """Parses a results file. timer: "cpu_time", "real_time" or None (the file's qkb_timer)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}:{e.lineno}: not JSON: {e.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a Google Benchmark JSON file (no \"benchmarks\" list)")
    context = data.get("context") if isinstance(data.get("context"), dict) else {}
    if timer is None:
        timer = context.get("qkb_timer", "cpu_time")
    if timer not in ("cpu_time", "real_time"):
        raise ResultsError(f"{path}: unknown timer '{timer}'")
    benches = {}
    for i, row in enumerate(data["benchmarks"]):
        if not isinstance(row, dict) or "name" not in row:
            raise ResultsError(f"{path}: benchmarks[{i}] has no name")
        run_name = OPTION_SUFFIX_RE.sub("", row.get("run_name", row["name"]))
        try:
            b = benches.get(run_name) or Bench(run_name)
        except ResultsError as e:
            raise ResultsError(f"{path}: {e}") from None
        benches[run_name] = b
        if row.get("label"):
            b.label = row["label"]
        if isinstance(row.get("family_index"), int) and b.family_index is None:
            b.family_index = row["family_index"]
        if isinstance(row.get("ops"), (int, float)) and b.ops_counter is None:
            b.ops_counter = float(row["ops"])
        if row.get("error_occurred"):
            b.error = row.get("error_message") or "error"
            continue
        unit = row.get("time_unit", "ns")
        if unit not in TIME_UNIT_NS:
            raise ResultsError(f"{path}: {row['name']}: unknown time_unit '{unit}'")
        value = row.get(timer)
        if not isinstance(value, (int, float)):
            raise ResultsError(f"{path}: {row['name']}: no numeric {timer}")
        ns = float(value) * TIME_UNIT_NS[unit]
        run_type = row.get("run_type", "iteration")
        if run_type == "iteration":
            b.samples.append(ns)
        elif run_type == "aggregate" and row.get("aggregate_name") == "median":
            b.agg_median = ns
    if not benches:
        raise ResultsError(f"{path}: no benchmarks")
    return Results(path, context, benches, timer)


def fmt_time(ns):
    """3 significant figures in the largest unit that keeps the value >= 1: 812 us, 4.44 ms."""
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3), ("ns", 1.0)):
        if ns >= scale or unit == "ns":
            v = ns / scale
            digits = 2 if v < 10 else 1 if v < 100 else 0
            return f"{v:.{digits}f} {unit}"
    return "-"


if __name__ == "__main__":
    import sys
    print(__doc__.strip())
    print("\nThis is a module used by summarize.py, compare.py and pick.py; run those (each has --help).")
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
