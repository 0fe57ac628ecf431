"""CLI checks for scripts/summarize.py, compare.py and pick.py on tiny synthetic results files
(tests/scripts/data/). Standard library only: python3 -m unittest tests/scripts/test_scripts.py"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
SCRIPTS = os.environ.get("QKB_SCRIPTS_DIR", os.path.join(HERE, "..", "..", "scripts"))
sys.path.insert(0, SCRIPTS)
import compare  # noqa: E402


def run(script, *args):
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, script), *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def d(name):
    return os.path.join(DATA, name)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Help(unittest.TestCase):
    def test_help(self):
        for s in ("summarize.py", "compare.py", "pick.py"):
            rc, out, _ = run(s, "--help")
            self.assertEqual(rc, 0, s)
            self.assertIn("usage:", out)

    def test_bench_sh_help(self):
        p = subprocess.run(["bash", os.path.join(SCRIPTS, "bench.sh"), "--help"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: scripts/bench.sh", p.stdout)


class UTest(unittest.TestCase):
    def test_known_values(self):
        # Reference values from scipy.stats.mannwhitneyu(method='asymptotic', use_continuity=True).
        u, p = compare.mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(u, 0)
        self.assertAlmostEqual(p, 0.012185780355344818, places=12)
        u, p = compare.mann_whitney_u([1, 2, 2, 3], [2, 3, 3, 4, 5])
        self.assertEqual(u, 3.0)
        self.assertAlmostEqual(p, 0.09934224785346528, places=12)

    def test_identical_samples(self):
        self.assertEqual(compare.mann_whitney_u([1, 1, 1], [1, 1, 1])[1], 1.0)

    def test_attainable(self):
        self.assertGreater(compare.best_attainable_p(3, 3), 0.05)
        self.assertLess(compare.best_attainable_p(4, 4), 0.05)


class Compare(unittest.TestCase):
    def test_same_file(self):
        rc, out, _ = run("compare.py", d("base.json"), d("base.json"))
        self.assertEqual(rc, 0)
        self.assertIn("0 significant slowdown", out)

    def test_slowdown(self):
        rc, out, _ = run("compare.py", d("base.json"), d("slower.json"))
        self.assertEqual(rc, 1)
        self.assertIn("SLOWER", out)
        self.assertIn("qk_int8_fc_4x8c8__avx2", out)
        self.assertIn("+20.0%", out)

    def test_speedup_is_not_a_regression(self):
        rc, out, _ = run("compare.py", d("slower.json"), d("base.json"))
        self.assertEqual(rc, 0)
        self.assertIn("faster", out)

    def test_threshold(self):
        rc, out, _ = run("compare.py", "--threshold", "0.25", d("base.json"), d("slower.json"))
        self.assertEqual(rc, 0)
        self.assertIn("within threshold", out + run("compare.py", "--all", "--threshold", "0.25",
                                                    d("base.json"), d("slower.json"))[1])

    def test_filter(self):
        rc, _, _ = run("compare.py", "--filter", "scalar", d("base.json"), d("slower.json"))
        self.assertEqual(rc, 0)

    def test_context_mismatch(self):
        rc, _, err = run("compare.py", d("base.json"), d("other_cpu.json"))
        self.assertEqual(rc, 2)
        self.assertIn("refusing", err)
        self.assertIn("qk_cpu", err)
        rc, _, err = run("compare.py", "--force", d("base.json"), d("other_cpu.json"))
        self.assertEqual(rc, 0)
        self.assertIn("warning", err)

    def test_bad_input(self):
        rc, _, err = run("compare.py", d("base.json"), d("bad.json"))
        self.assertEqual(rc, 2)
        self.assertIn("bad.json", err)
        self.assertIn("not JSON", err)
        rc, _, err = run("compare.py", d("base.json"), d("missing.json"))
        self.assertEqual(rc, 2)
        self.assertIn("cannot read", err)
        rc, _, _ = run("compare.py", "--threshold", "-1", d("base.json"), d("base.json"))
        self.assertEqual(rc, 2)

    def test_too_few_repetitions_warns(self):
        with tempfile.TemporaryDirectory() as t:
            data = json.loads(read(d("base.json")))
            data["benchmarks"] = [r for r in data["benchmarks"]
                                  if r.get("run_type") != "iteration" or r.get("repetition_index", 0) < 3]
            path = os.path.join(t, "three.json")
            write(path, json.dumps(data))
            rc, _, err = run("compare.py", path, path)
            self.assertEqual(rc, 0)
            self.assertIn("cannot reach alpha", err)


class Summarize(unittest.TestCase):
    def test_table(self):
        rc, out, _ = run("summarize.py", d("base.json"))
        self.assertEqual(rc, 0)
        self.assertIn("tiny_pw01_M4_K8_N16 (x2 layers)", out)
        self.assertIn("vs xnnpack_qs8_fc", out)
        self.assertIn("skipped qk_int8_fc_4x64c4__avx512vnni: CPU lacks the ISA (avx512vnni)", out)
        # Pointwise sum for the scalar variant: 2 x 1000 ns + 800 ns.
        self.assertRegex(out, r"qk_int8_fc_1x1c1__scalar\s+2\.80 us")
        self.assertIn("2 distinct GEMMs = 3 layers", out)

    def test_markdown_and_out(self):
        with tempfile.TemporaryDirectory() as t:
            path = os.path.join(t, "s.md")
            rc, out, _ = run("summarize.py", "--format", "markdown", "--out", path, d("base.json"))
            self.assertEqual(rc, 0)
            self.assertIn("| implementation |", read(path))

    def test_directory_takes_newest(self):
        with tempfile.TemporaryDirectory() as t:
            for name in ("20240101T000000Z.json", "20250101T000000Z.json"):
                write(os.path.join(t, name), read(d("base.json")))
            rc, out, _ = run("summarize.py", t)
            self.assertEqual(rc, 0)
            self.assertIn("20250101T000000Z.json", out)

    def test_ops_and_chain(self):
        rc, out, _ = run("summarize.py", d("ops_chain.json"))
        self.assertEqual(rc, 0)
        # Per-op tables: family-qualified titles, family reference, GOPS from the "ops" counter.
        self.assertIn("dwconv2d_int8 tiny_dw01_4x4x8_k3s1 (x3 layers)", out)
        self.assertRegex(out, r"xnnpack_qc8_dwconv\s+300 ns\s+7\.68\s+10\.00x")
        self.assertIn("skipped qk_int8_conv2d_gemm_6x64c4__avx512vnni: CPU lacks avx512vnni", out)
        # Per-op sums weighted by layer count: 3 depthwise layers x 3 us, 2 pointwise x 2 us.
        self.assertIn("depthwise total (dwconv2d_int8): 1 distinct shapes = 3 layers", out)
        self.assertRegex(out, r"qk_int8_dwconv2d__scalar\s+9\.00 us")
        self.assertIn("pointwise total (conv2d_int8, 1x1 convs)", out)
        self.assertRegex(out, r"qk_int8_conv2d__scalar\s+4\.00 us\s+0\.51\s+1\.00x\s+0\.25x")
        self.assertIn("residual add total (add_int8)", out)
        # Chain totals with speedups vs XNNPACK and scalar; the skipped cap is listed.
        self.assertIn("whole network (chain_int8)", out)
        self.assertRegex(out, r"avx2\s+8\.00 us\s+125\.00\s+1\.50x\s+10\.00x")
        self.assertIn("skipped avx512vnni: CPU lacks avx512vnni", out)
        # Per-layer rows summed by kind (min_time suffixes stripped).
        self.assertIn("per-layer rows summed by kind", out)
        self.assertRegex(out, r"avx2\s+2\.00 us\s+1\.00 us\s+4\.00 us\s+200 ns\s+800 ns\s+8\.00 us\s+8\.00 us")

    def test_ops_and_chain_other_scripts(self):
        rc, out, _ = run("compare.py", d("ops_chain.json"), d("ops_chain.json"))
        self.assertEqual(rc, 0)
        rc, out, _ = run("pick.py", d("ops_chain.json"))
        self.assertEqual(rc, 0)
        self.assertNotIn("chain", out.replace("ops_chain.json", ""))  # chain rows are not variants

    def test_errors(self):
        rc, _, err = run("summarize.py", d("bad.json"))
        self.assertEqual(rc, 2)
        self.assertIn("not JSON", err)
        rc, _, err = run("summarize.py", "--reference", "nope", d("base.json"))
        self.assertEqual(rc, 2)
        self.assertIn("no implementation named 'nope'", err)


class SummarizePaths(unittest.TestCase):
    """Per-op sums and cross-path tables for the 16x8 and float families (data/paths.json)."""

    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out, cls.err = run("summarize.py", d("paths.json"))

    def test_ran(self):
        self.assertEqual(self.rc, 0, self.err)

    def test_per_path_sums(self):
        # 2 pointwise layers x 1 us on the i16x8 avx2 variant, vs its scalar reference (2 x 3 us).
        self.assertIn("pointwise total (conv2d_i16x8, 1x1 convs): 1 distinct shapes = 2 layers", self.out)
        self.assertRegex(self.out, r"qk_i16x8_conv2d_gemm_6x16c2__avx2\s+2\.00 us\s+1\.02\s+3\.00x")
        # f32 sums carry the XNNPACK f32 peer's column; f16w the f16 peer's.
        self.assertRegex(self.out, r"qk_f32_conv2d_gemm_6x16__avx2\s+3\.00 us\s+0\.68\s+2\.67x\s+1\.33x")
        self.assertIn("vs xnnpack_f16_conv1x1", self.out)
        self.assertIn("stem total (conv2d_f32)", self.out)
        self.assertIn("depthwise total (dwconv2d_f32)", self.out)
        self.assertIn("residual add total (add_f32)", self.out)
        self.assertIn("residual add total, power-of-two scales (addpot_i16x8)", self.out)
        self.assertRegex(self.out, r"qk_i16x8_add_pot__avx2\s+100 ns")

    def test_path_table(self):
        self.assertIn("per path: fastest variant per op", self.out)
        self.assertRegex(self.out, r"\n  i16x8\s+2\.00 us\s+-\s+-\s+-\s+100 ns")
        self.assertRegex(self.out, r"\n  f32\s+3\.00 us\s+1\.00 us\s+1\.20 us\s+200 ns")
        # Peers grouped by XNNPACK datatype: the f16 add sits in the add_f32 family.
        self.assertRegex(self.out, r"\n  xnnpack f16\s+2\.40 us\s+-\s+-\s+160 ns")
        self.assertRegex(self.out, r"\n  xnnpack int8\s+1\.20 us")
        self.assertRegex(self.out, r"\n  i16x8\s+0\.50x")

    def test_classifier(self):
        self.assertIn("classifier t_fc05_M1_K16_N10: fastest per path", self.out)
        self.assertRegex(self.out, r"f16w\s+qk_f16w_fc_6x16__avx2\s+500 ns\s+2\.00x")
        self.assertRegex(self.out, r"dynamic\s+qk_dynamic_fc_6x16c2__avx2\s+250 ns\s+4\.00x")
        self.assertRegex(self.out, r"xnnpack_f16_fc\s+\(peer\)\s+700 ns\s+1\.43x")
        self.assertIn("skipped qk_f16w_fc_14x32__avx512vnni: CPU lacks the ISA (avx512vnni)", self.out)

    def test_int8_only_has_no_path_tables(self):
        rc, out, _ = run("summarize.py", d("ops_chain.json"))
        self.assertEqual(rc, 0)
        self.assertNotIn("per path:", out)
        self.assertNotIn("classifier", out)


class Pick(unittest.TestCase):
    def test_fastest_without_verified(self):
        rc, out, err = run("pick.py", d("base.json"))
        self.assertEqual(rc, 0)
        self.assertIn("taking every variant", err)
        lines = [l for l in out.splitlines() if not l.startswith("#")]
        self.assertEqual(len(lines), 3)
        for l in lines:
            self.assertIn("qk_int8_fc_4x8c8__avx2", l)  # fastest qk variant; peers never picked
        self.assertIn("fc int8 4 8 16 qk_int8_fc_4x8c8__avx2 250.0", out)

    def test_verified_excludes(self):
        with tempfile.TemporaryDirectory() as t:
            names = os.path.join(t, "names.txt")
            write(names, "qk_int8_fc_1x1c1__scalar\nqk_int8_fc_4x16c4__avxvnni\n")
            rc, out, _ = run("pick.py", "--verified", names, "--format", "json", d("slower.json"))
            self.assertEqual(rc, 0)
            picks = json.loads(out)["picks"]
            self.assertEqual({p["variant"] for p in picks}, {"qk_int8_fc_4x16c4__avxvnni"})

    def test_verify_output(self):
        # avxvnni failed a case in verify.txt: excluded; avx2 passed and is fastest in base.json.
        rc, out, err = run("pick.py", "--verified", d("verify.txt"), "--format", "json", d("base.json"))
        self.assertEqual(rc, 0)
        self.assertIn("excluded (failed or mistrusted cases): qk_int8_fc_4x16c4__avxvnni", err)
        data = json.loads(out)
        self.assertEqual(data["format"], "qkbench-kernel-picks")
        self.assertEqual({p["variant"] for p in data["picks"]}, {"qk_int8_fc_4x8c8__avx2"})
        self.assertEqual(data["picks"][0]["runner_up"], "qk_int8_fc_1x1c1__scalar")

    def test_errors(self):
        with tempfile.TemporaryDirectory() as t:
            empty = os.path.join(t, "empty.txt")
            write(empty, "nothing here\n")
            rc, _, err = run("pick.py", "--verified", empty, d("base.json"))
            self.assertEqual(rc, 2)
            self.assertIn("no variant names", err)
            only_skipped = os.path.join(t, "peer.txt")
            write(only_skipped, "qk_int8_fc_4x64c4__avx512vnni\n")
            rc, _, err = run("pick.py", "--verified", only_skipped, d("base.json"))
            self.assertEqual(rc, 2)
            self.assertIn("no timed, verified", err)
        rc, _, err = run("pick.py", d("bad.json"))
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
