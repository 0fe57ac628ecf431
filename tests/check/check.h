/* The exactness harness: every registered variant against the reference, on cases derived from its
 * tile plus adversarial parameters, with guard pages; and the golden-vector runner (VECTORS.md).
 * Used by `qkbench verify` (also under qemu) and by the Criterion suites (native). */
#ifndef QK_CHECK_H
#define QK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qk/qk.h"

typedef struct qkc_report {
  size_t cases;      /* cases run */
  size_t passed;
  size_t failed;
  size_t mistrusted; /* cases meant to spread outputs whose outputs were mostly clamped */
  char first_failure[768];
  char first_mistrusted[256];
  double max_err_ratio; /* float paths: largest |y - exact| / bound seen (must stay <= 1) */
} qkc_report;

/* Guarded buffers: the n bytes end exactly at a PROT_NONE page, so a tail over-read or over-write
 * faults; the slack before them holds a canary that qkc_guard_intact() checks. align must divide
 * the page size; n may be 0. */
void *qkc_guard_alloc(size_t n, size_t align);
bool qkc_guard_intact(const void *p);
void qkc_guard_free(void *p);

/* Deterministic generator (splitmix64) so every case replays from (seed, index). */
typedef struct qkc_rng { uint64_t s; } qkc_rng;
uint64_t qkc_next(qkc_rng *r);
int32_t qkc_range(qkc_rng *r, int32_t lo, int32_t hi); /* inclusive */

/* Number of generated cases for a variant (depends on its tile). */
size_t qkc_case_count(const qk_variant *v);
/* Runs case `index` of variant v (seeded) against the reference; appends to r. Returns true on
 * pass. The variant must be runnable on this CPU. */
bool qkc_run_case(const qk_variant *v, uint64_t seed, size_t index, qkc_report *r);
/* All cases of v; prints progress and failures to out (may be NULL). */
void qkc_check_variant(const qk_variant *v, uint64_t seed, FILE *out, qkc_report *r);

/* Golden vectors: runs every case of a JSON Lines file through the reference and every runnable
 * variant of its op. Prints one line per (file, variant). Returns the number of failures plus
 * errors (malformed lines, unknown ops, a file with no case); 0 means all passed. */
int qkc_run_vector_file(const char *path, FILE *out);

/* `qkbench verify` entry point. */
int qkc_verify_main(int argc, char **argv);

#endif
