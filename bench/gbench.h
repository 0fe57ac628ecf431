/* A thin C API over Google Benchmark 1.7.1 (bench/gbench_shim.cc, the project's only C++ file).
 *
 * A benchmark is a C function taking an opaque state handle and the user pointer given at
 * registration. It does its set-up, then loops while qkb_keep_running() (or _batch) says so, then
 * sets counters. Everything runs on the calling thread; none of these functions throw or abort on
 * bad input: registration returns false and the caller decides.
 *
 *   static void bm(qkb_state *st, void *user) {
 *     struct work *w = user;
 *     if (!prepare(w)) { qkb_skip_with_error(st, "prepare failed"); return; }
 *     while (qkb_keep_running(st)) run(w);
 *     qkb_counter(st, "ops_per_second", 2.0 * w->ops, QKB_COUNTER_ITERATION_INVARIANT_RATE);
 *   }
 *   qkb_register("family/case", bm, &work, NULL);
 *   return qkb_main(argc, argv);
 */
#ifndef QKB_GBENCH_H
#define QKB_GBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A benchmark::State, borrowed for the duration of one call of a benchmark function. */
typedef struct qkb_state qkb_state;

typedef void (*qkb_fn)(qkb_state *st, void *user);

/* Timing loop. keep_running_batch(n) counts n iterations per true (the body does n units of work);
 * it may overshoot by up to n - 1 iterations, as Google Benchmark documents. */
bool qkb_keep_running(qkb_state *st);
bool qkb_keep_running_batch(qkb_state *st, int64_t n);
/* Iterations completed so far (after the loop: the total). */
int64_t qkb_iterations(const qkb_state *st);
/* Exclude work from the timing (costly; not for use in every iteration of a short body). */
void qkb_pause_timing(qkb_state *st);
void qkb_resume_timing(qkb_state *st);

/* Arguments registered with qkb_options.args: range(pos). Returns 0 if pos is out of range. */
int64_t qkb_range(const qkb_state *st, size_t pos);
size_t qkb_range_count(const qkb_state *st);

/* Counter flags, as benchmark::Counter::Flags. */
enum {
  QKB_COUNTER_DEFAULT = 0,
  QKB_COUNTER_RATE = 1 << 0,                /* divided by the measured time */
  QKB_COUNTER_AVG_THREADS = 1 << 1,         /* divided by the number of threads */
  QKB_COUNTER_ITERATION_INVARIANT = 1 << 2, /* a per-iteration value: multiplied by iterations */
  QKB_COUNTER_AVG_ITERATIONS = 1 << 3,      /* divided by iterations */
  QKB_COUNTER_INVERT = 1 << 4,              /* reported as 1/value, last */
  QKB_COUNTER_BASE_1024 = 1 << 5,           /* k = 1024 in the console (bytes) instead of 1000 */
  /* value per iteration, reported per second: ops/s and bytes/s */
  QKB_COUNTER_ITERATION_INVARIANT_RATE = QKB_COUNTER_ITERATION_INVARIANT | QKB_COUNTER_RATE,
};
/* Sets (replaces) a named counter; name must be non-empty. flags: QKB_COUNTER_* bits. */
void qkb_counter(qkb_state *st, const char *name, double value, unsigned flags);
/* Google Benchmark's own bytes_per_second / items_per_second (totals over all iterations). */
void qkb_set_bytes_processed(qkb_state *st, int64_t bytes);
void qkb_set_items_processed(qkb_state *st, int64_t items);
/* Free text shown after the row and stored as "label" in JSON. */
void qkb_set_label(qkb_state *st, const char *label);

/* Marks this run as failed/skipped with a message (the row is reported with error_occurred and
 * error_message). Call it before the loop, or inside it followed by a break; the loop is not
 * entered after it. 1.7.1 has no SkipWithMessage: a deliberate skip is reported this way too. */
void qkb_skip_with_error(qkb_state *st, const char *msg);
bool qkb_error_occurred(const qkb_state *st);

/* Key/value pair printed in the console header and stored in the JSON "context" block. */
void qkb_add_custom_context(const char *key, const char *value);

typedef enum qkb_unit {
  QKB_UNIT_DEFAULT = 0, /* Google Benchmark's default (ns, or --benchmark_time_unit) */
  QKB_UNIT_NS,
  QKB_UNIT_US,
  QKB_UNIT_MS,
  QKB_UNIT_S,
} qkb_unit;

/* Per-benchmark options; zero-initialise and set what you need. Zero / NULL means "use the
 * command-line flag or Google Benchmark's default". */
typedef struct qkb_options {
  int repetitions;       /* > 0 overrides --benchmark_repetitions for this benchmark */
  double min_time;       /* seconds, > 0 overrides --benchmark_min_time */
  double min_warmup_time; /* seconds, > 0 runs a warm-up first */
  int64_t iterations;    /* > 0 fixes the iteration count (excludes min_time) */
  qkb_unit unit;
  bool use_real_time;    /* time by wall clock instead of process CPU time */
  const int64_t *args;   /* one argument set, read back with qkb_range */
  size_t nargs;
} qkb_options;

/* Registers fn under name (copied) with the user pointer (borrowed: it must outlive the run).
 * opts may be NULL. Returns false on a NULL/empty name, NULL fn or invalid option. */
bool qkb_register(const char *name, qkb_fn fn, void *user, const qkb_options *opts);

/* benchmark::Initialize(&argc, argv) + ReportUnrecognizedArguments + RunSpecifiedBenchmarks +
 * Shutdown. argv must hold only Google Benchmark flags after argv[0]. Returns 0 on success, 2 on
 * an unrecognised argument, 1 if no benchmark matched the filter or an exception escaped. */
int qkb_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
