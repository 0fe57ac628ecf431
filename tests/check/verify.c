/* `qkbench verify`: the exactness harness from the command line (also the runner used under
 * qemu-aarch64, where Criterion hangs). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: qkbench verify [options]\n"
          "       qkbench verify --vectors FILE...\n"
          "Checks every registered variant bit for bit against the reference kernel on cases\n"
          "derived from its tile plus adversarial parameters, with guard pages around buffers.\n"
          "  --variant NAME   only this variant (repeatable)\n"
          "  --seed N         generator seed (default: random, printed for replay)\n"
          "  --case I         only case I (with --variant and --seed: replays one failure)\n"
          "  --levels         also re-dispatch at every QK_ISA cap and check the choice\n"
          "  --vectors FILE.. run golden-vector files (VECTORS.md) instead\n"
          "  --list           list variants and case counts, run nothing\n"
          "Exit status: 0 all passed; 1 a failure, a mistrusted case, or nothing tested; 2 usage.\n");
}

static bool parse_u64(const char *s, uint64_t *v) {
  char *end;
  errno = 0;
  *v = strtoull(s, &end, 0);
  return s[0] && s[0] != '-' && !*end && errno == 0;
}

/* Lowers the cap step by step: dispatch must pick a variant at or below each cap. */
static int check_levels(FILE *out) {
  int bad = 0;
  for (int cap = 0; cap < QK_ISA_COUNT; cap++) {
    if (!qk_isa_supported((qk_isa)cap)) continue;
    qk_set_isa_cap((qk_isa)cap);
    fprintf(out, "dispatch cap=%-10s", qk_isa_name((qk_isa)cap));
    for (int path = 0; path < QK_PATH_COUNT; path++)
      for (int op = 0; op < QK_OP_COUNT; op++) {
        bool any = false;
        for (size_t i = 0; i < qk_variant_count(); i++)
          any |= qk_variant_at(i)->op == (qk_op)op && qk_variant_at(i)->path == (qk_path)path;
        if (!any) continue;
        const qk_variant *v = qk_dispatch((qk_op)op, (qk_path)path);
        const bool ok = v && v->isa <= (qk_isa)cap;
        fprintf(out, " %s:%s=%s%s", qk_path_name((qk_path)path), qk_op_name((qk_op)op), v ? qk_isa_name(v->isa) : "(none)",
                ok ? "" : "!WRONG");
        bad += !ok;
      }
    fputc('\n', out);
  }
  qk_set_isa_cap(QK_ISA_COUNT);
  return bad;
}

int qkc_verify_main(int argc, char **argv) {
  const char *only[64];
  int n_only = 0;
  uint64_t seed = 0, case_index = 0;
  bool have_seed = false, have_case = false, list = false, levels = false;
  int vec_first = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--variant") && i + 1 < argc) {
      if (n_only == 64) { fprintf(stderr, "verify: too many --variant options\n"); return 2; }
      only[n_only++] = argv[++i];
    } else if (!strcmp(a, "--seed") && i + 1 < argc) {
      if (!parse_u64(argv[++i], &seed)) { fprintf(stderr, "verify: --seed wants a non-negative integer, got '%s'\n", argv[i]); return 2; }
      have_seed = true;
    } else if (!strcmp(a, "--case") && i + 1 < argc) {
      if (!parse_u64(argv[++i], &case_index)) { fprintf(stderr, "verify: --case wants a non-negative integer, got '%s'\n", argv[i]); return 2; }
      have_case = true;
    } else if (!strcmp(a, "--list")) {
      list = true;
    } else if (!strcmp(a, "--levels")) {
      levels = true;
    } else if (!strcmp(a, "--vectors")) {
      vec_first = i + 1;
      break;
    } else {
      fprintf(stderr, "verify: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  for (int k = 0; k < n_only; k++)
    if (!qk_variant_find(only[k])) {
      fprintf(stderr, "verify: no variant named '%s' (see `qkbench verify --list`)\n", only[k]);
      return 2;
    }

  if (vec_first >= 0) {
    if (vec_first >= argc) { fprintf(stderr, "verify: --vectors needs at least one file\n"); return 2; }
    int failures = 0;
    for (int i = vec_first; i < argc; i++) failures += qkc_run_vector_file(argv[i], stdout);
    printf("vectors: %d file(s), %s\n", argc - vec_first, failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
  }

  if (!have_seed) seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
  printf("qkbench verify: seed %" PRIu64 " (replay with --seed %" PRIu64 ")\n", seed, seed);
  printf("cpu: %s [%s]\n", qk_cpu_name(), qk_cpu_features());
  size_t tested = 0, failed = 0, mistrusted = 0, skipped = 0;
  for (size_t i = 0; i < qk_variant_count(); i++) {
    const qk_variant *v = qk_variant_at(i);
    bool wanted = n_only == 0;
    for (int k = 0; k < n_only; k++) wanted |= strcmp(only[k], v->name) == 0;
    if (!wanted) continue;
    if (list) {
      printf("%-40s %-4s %-5s %-10s tile %ux%uc%u  %zu cases%s%s\n", v->name, qk_op_name(v->op),
             qk_path_name(v->path), qk_isa_name(v->isa), v->mr, v->nr, v->kr, qkc_case_count(v),
             qk_variant_unavailable(v) ? "  unavailable: " : "", qk_variant_unavailable(v) ? qk_variant_unavailable(v) : "");
      continue;
    }
    const char *why = qk_variant_unavailable(v);
    if (why) {
      printf("%-40s SKIPPED: %s\n", v->name, why);
      skipped++;
      continue;
    }
    qkc_report r = {0};
    if (have_case) {
      qkc_run_case(v, seed, (size_t)case_index, &r);
      printf("%-40s case %" PRIu64 ": %s\n", v->name, case_index, r.failed ? "FAILED" : r.mistrusted ? "MISTRUSTED" : "passed");
      if (r.failed) printf("  FAIL %s\n", r.first_failure);
    } else {
      qkc_check_variant(v, seed, stdout, &r);
    }
    fflush(stdout);
    tested += r.cases;
    failed += r.failed;
    mistrusted += r.mistrusted;
  }
  if (list) return 0;
  int bad_levels = levels ? check_levels(stdout) : 0;
  printf("%zu passed, %zu failed, %zu mistrusted, %zu variants skipped\n", tested - failed - mistrusted, failed,
         mistrusted, skipped);
  if (tested == 0) {
    printf("verify: nothing was tested\n");
    return 1;
  }
  return failed || mistrusted || bad_levels ? 1 : 0;
}
