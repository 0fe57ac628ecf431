/* qkbench: one command for the suite — info, verify (exactness), bench (latency). */
#include <stdio.h>
#include <string.h>

#include "qk/qk.h"
#include "check.h"
#ifdef QK_HAVE_BENCH
#include "bench.h"
#endif

static void usage(FILE *f) {
  fprintf(f,
          "usage: qkbench <command> [options]\n"
          "commands:\n"
          "  info     CPU, features, ISAs built, variants and the one dispatch chooses per (op, path)\n"
          "  verify   exactness harness: every variant against the reference (--help for options)\n"
          "  bench    latency harness on Google Benchmark (--help for options)\n"
          "environment: QK_ISA=<isa> caps dispatch; QK_VARIANT=<name> forces a variant.\n");
}

static int info(void) {
  printf("cpu:       %s\n", qk_cpu_name());
  printf("features:  %s\n", qk_cpu_features());
  printf("isa built:");
  for (int i = 0; i < QK_ISA_COUNT; i++)
    if (qk_isa_built((qk_isa)i)) printf(" %s%s", qk_isa_name((qk_isa)i), qk_isa_supported((qk_isa)i) ? "" : "(unsupported here)");
  printf("\n");
  const qk_isa cap = qk_isa_cap();
  printf("isa cap:   %s\n", cap == QK_ISA_COUNT ? "INVALID QK_ISA" : qk_isa_name(cap));
  printf("variants:\n");
  for (size_t i = 0; i < qk_variant_count(); i++) {
    const qk_variant *v = qk_variant_at(i);
    const char *why = qk_variant_unavailable(v);
    printf("  %-40s %-10s %s\n", v->name, qk_isa_name(v->isa), why ? why : "runnable");
  }
  printf("chosen:\n");
  int rc = 0;
  for (int op = 0; op < QK_OP_COUNT; op++)
    for (int path = 0; path < QK_PATH_COUNT; path++) {
      bool any = false;
      for (size_t i = 0; i < qk_variant_count(); i++)
        any |= qk_variant_at(i)->op == (qk_op)op && qk_variant_at(i)->path == (qk_path)path;
      if (!any) continue;
      const qk_variant *v = qk_dispatch((qk_op)op, (qk_path)path);
      printf("  %-5s %-10s -> %s\n", qk_path_name((qk_path)path), qk_op_name((qk_op)op), v ? v->name : qk_last_error());
      if (!v) rc = 1;
    }
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("qkbench %s\n", QKBENCH_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "info")) return info();
  if (!strcmp(argv[1], "verify")) return qkc_verify_main(argc - 1, argv + 1);
  if (!strcmp(argv[1], "bench")) {
#ifdef QK_HAVE_BENCH
    return qkb_bench_main(argc - 1, argv + 1);
#else
    fprintf(stderr, "qkbench: this build has no latency harness (Google Benchmark was not found at configure time)\n");
    return 2;
#endif
  }
  fprintf(stderr, "qkbench: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
