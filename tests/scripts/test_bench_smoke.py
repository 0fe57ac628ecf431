"""Smoke test of `qkbench bench`'s per-op and chain rows on a tiny chained table
(data/tiny_chain.txt): every family is registered, every row either ran or is a skipped row with a
reason, every checked row computed exactly the reference network's output, and the chain ran for
each ISA this CPU supports. QKB_QKBENCH names the qkbench binary (set by meson); skipped without it."""

import json
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
QKBENCH = os.environ.get("QKB_QKBENCH")
PATH_FAMILIES = ("fc_i16x8", "conv2d_i16x8", "dwconv2d_i16x8", "add_i16x8", "addpot_i16x8", "quantize_i16x8",
                 "dequantize_i16x8", "fc_f32", "fc_f16w", "fc_dynamic", "conv2d_f32", "conv2d_f16w",
                 "conv2d_dynamic", "dwconv2d_f32", "dwconv2d_f16w", "add_f32", "avgpool_f32")
FAMILIES = ("fc_int8", "conv2d_int8", "dwconv2d_int8", "add_int8", "avgpool_int8", "quantize_int8",
            "dequantize_int8", "chain_int8") + PATH_FAMILIES
# "unsupported hardware": XNNPACK's own answer for its f16 operators on a CPU without them.
SKIP_REASONS = ("CPU lacks", "above the QK_ISA cap", "not built", "unsupported hardware")


@unittest.skipUnless(QKBENCH, "QKB_QKBENCH not set (run through meson test)")
class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as t:
            out = os.path.join(t, "r.json")
            p = subprocess.run([QKBENCH, "bench", "--shapes", os.path.join(HERE, "data", "tiny_chain.txt"),
                                "--hot", "--out", out, "--benchmark_repetitions=1", "--benchmark_min_time=0.001",
                                "--benchmark_enable_random_interleaving=false"],
                               capture_output=True, text=True, timeout=600)
            cls.rc, cls.stderr = p.returncode, p.stderr
            if p.returncode != 0 or not os.path.exists(out):
                raise AssertionError(f"qkbench bench exited {p.returncode}:\n{p.stderr[-3000:]}")
            with open(out, encoding="utf-8") as f:
                cls.rows = json.load(f)["benchmarks"]

    def test_ran(self):
        self.assertEqual(self.rc, 0, self.stderr)

    def test_families(self):
        seen = {r["name"].split("/")[0] for r in self.rows}
        for f in FAMILIES:
            self.assertIn(f, seen)

    def test_rows_ran_or_say_why(self):
        for r in self.rows:
            if r.get("error_occurred"):
                msg = r.get("error_message", "")
                self.assertTrue(msg.startswith("skipped:") and any(s in msg for s in SKIP_REASONS),
                                f"{r['name']}: {msg}")

    def test_exact(self):
        checked = [r for r in self.rows if "exact" in r]
        self.assertTrue(checked)
        for r in checked:
            self.assertEqual(r["exact"], 1, r["name"])

    def test_float_within_bound(self):
        # f32 / f16w rows and the XNNPACK float peers: every output within SPEC 14's bound.
        checked = [r for r in self.rows if "within_bound" in r]
        self.assertTrue(any(r["name"].startswith("fc_f16w/") for r in checked))
        for r in checked:
            self.assertEqual(r["within_bound"], 1, f"{r['name']}: err_ratio {r.get('err_ratio')}")

    def test_new_paths_checked(self):
        # Every timed 16x8 / float per-op row reports a check.
        for r in self.rows:
            fam = r["name"].split("/")[0]
            if fam in PATH_FAMILIES and not r.get("error_occurred"):
                self.assertTrue("exact" in r or "within_bound" in r, r["name"])

    def test_chain_totals(self):
        totals = {r["name"].split("/")[1]: r for r in self.rows if r["name"].startswith("chain_int8/")
                  and r["name"].split("/")[2] == "total"}
        self.assertIn("scalar", totals)
        self.assertFalse(totals["scalar"].get("error_occurred"), totals["scalar"].get("error_message"))
        self.assertEqual(totals["scalar"]["layers"], 6)
        layers = [r for r in self.rows if r["name"].startswith("chain_int8/scalar/layer")]
        self.assertEqual(len(layers), 6)


if __name__ == "__main__":
    unittest.main()
