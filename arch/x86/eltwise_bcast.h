/* Broadcast plan for the SIMD int8 Add and Mul variants (SPEC.md §6-§7).
 *
 * Numpy-style 4-D broadcasting is reduced to one flat inner row that the SIMD code runs as a plain
 * loop, repeated by up to three outer loops. The row is the longest run of innermost output
 * dimensions over which each input either advances with the output or stays on one element:
 *   - equal shapes: one row of all elements (the flat fast path);
 *   - a scalar input (every dimension 1): one row, the scalar held in a register;
 *   - [N,H,W,C] with [1,1,1,C]: rows of C with both inputs advancing, the outer loops keep the
 *     per-channel input at offset 0;
 *   - [N,H,W,C] with [N,H,W,1]: rows of C with the second input one value per row.
 * Dimensions of output size 1 belong to any run. Add and Mul are symmetric in their inputs (the
 * int32 sum r1 + r2 and the product d1 * d2 commute), so a row where only input 2 advances is
 * turned into one where input 1 advances by swapping the inputs (plan.swapped); the kernels then
 * swap their per-input parameters too and need only two row kinds. */
#ifndef QK_X86_ELTWISE_BCAST_H
#define QK_X86_ELTWISE_BCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum qk_bcast_kind {
  QK_BCAST_VV, /* both inputs advance along the row */
  QK_BCAST_VS, /* input a advances, input b is one element for the whole row */
} qk_bcast_kind;

typedef struct qk_bcast_plan {
  qk_bcast_kind kind;
  bool swapped;                /* a is input 2 and b is input 1 */
  size_t row;                  /* elements per row */
  size_t outer[3];             /* outer trip counts, outermost first (1 when unused) */
  size_t sta[3], stb[3];       /* element strides of a and b per outer loop (0: broadcast) */
} qk_bcast_plan;

/* s1, s2 must be broadcast-compatible (qk_broadcast_shape accepts them). */
static inline void qk_bcast_plan_make(const size_t s1[4], const size_t s2[4], qk_bcast_plan *p) {
  enum { VV, V1, V2 }; /* V1: only input 1 advances; V2: only input 2 */
  int kind = VV;
  size_t o[4];
  for (int d = 0; d < 4; d++) o[d] = s1[d] > s2[d] ? s1[d] : s2[d];
  bool have = false;
  int split = 4; /* first dimension of the row */
  size_t row = 1;
  for (int d = 3; d >= 0; d--) {
    if (o[d] == 1) {
      split = d;
      continue;
    }
    const int k = s1[d] == s2[d] ? VV : s2[d] == 1 ? V1 : V2;
    if (have && k != kind) break;
    kind = k, have = true, row *= o[d], split = d;
  }
  p->swapped = kind == V2;
  p->kind = kind == VV ? QK_BCAST_VV : QK_BCAST_VS;
  p->row = row;
  const size_t *sa = p->swapped ? s2 : s1, *sb = p->swapped ? s1 : s2;
  for (int j = 0; j < 3; j++) p->outer[j] = 1, p->sta[j] = p->stb[j] = 0;
  /* Dimensions [0, split) become the last split outer loops, in order. */
  for (int d = 0; d < split; d++) {
    size_t ia = 1, ib = 1;
    for (int e = d + 1; e < 4; e++) ia *= sa[e], ib *= sb[e];
    const int j = d + 3 - split;
    p->outer[j] = o[d];
    p->sta[j] = sa[d] == 1 ? 0 : ia;
    p->stb[j] = sb[d] == 1 ? 0 : ib;
  }
}

typedef void (*qk_bcast_row_fn)(const void *ctx, const int8_t *a, const int8_t *b, int8_t *y, size_t n);

/* Runs row() over every row in output order; a and b are the (possibly swapped) input bases. */
static inline void qk_bcast_each(const qk_bcast_plan *p, const int8_t *a, const int8_t *b, int8_t *y,
                                 qk_bcast_row_fn row, const void *ctx) {
  for (size_t i0 = 0; i0 < p->outer[0]; i0++)
    for (size_t i1 = 0; i1 < p->outer[1]; i1++)
      for (size_t i2 = 0; i2 < p->outer[2]; i2++) {
        const size_t oa = i0 * p->sta[0] + i1 * p->sta[1] + i2 * p->sta[2];
        const size_t ob = i0 * p->stb[0] + i1 * p->stb[1] + i2 * p->stb[2];
        row(ctx, a + oa, b + ob, y, p->row);
        y += p->row;
      }
}

#endif
