/* The latency harness: `qkbench bench`. Built only when Google Benchmark is found (QK_HAVE_BENCH). */
#ifndef QKB_BENCH_H
#define QKB_BENCH_H

/* argv[0] is the subcommand name ("bench"); options start at argv[1]. `--help` lists them.
 * Returns a process exit status: 0 ok, 1 run failed or nothing matched, 2 usage or input error. */
int qkb_bench_main(int argc, char **argv);

#endif
