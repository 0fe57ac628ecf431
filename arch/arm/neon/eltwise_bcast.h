/* Broadcast plan shared by the NEON Add and Mul variants: the 4-D numpy-style broadcast of two NHWC
 * inputs folded into at most three outer loops around one inner row, in which each input is either
 * contiguous (step 1) or one repeated value (step 0). Plain C.
 *
 * Output dimensions of size 1 are dropped, and neighbouring dimensions in which each input is
 * broadcast the same way are merged: equal shapes become one row of N, a scalar operand one row
 * with a step-0 side, per-channel [1,1,1,C] against [N,H,W,C] a row of C inside a loop of N*H*W
 * whose step for the small input is 0. The inner row is never broadcast on both sides (that
 * dimension would have size 1 and be dropped), so one side always streams. */
#ifndef QK_ARM_ELTWISE_BCAST_H
#define QK_ARM_ELTWISE_BCAST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct qk_bcast_plan {
  size_t n;              /* inner row length */
  size_t step1, step2;   /* 1: contiguous, 0: one value repeated along the row */
  size_t outer[3];       /* outer loop lengths, outermost first (padded with 1) */
  size_t s1[3], s2[3];   /* element strides of each input per outer loop (0 where broadcast) */
} qk_bcast_plan;

static inline void qk_bcast_plan_make(const size_t a[4], const size_t b[4], qk_bcast_plan *p) {
  size_t len[4];
  bool ba[4], bb[4];
  int k = 0;
  for (int i = 0; i < 4; i++) {
    const size_t o = a[i] > b[i] ? a[i] : b[i];
    if (o == 1) continue;
    const bool xa = a[i] == 1, xb = b[i] == 1;
    if (k > 0 && ba[k - 1] == xa && bb[k - 1] == xb) {
      len[k - 1] *= o;
    } else {
      len[k] = o, ba[k] = xa, bb[k] = xb;
      k++;
    }
  }
  if (k == 0) { /* every dimension is 1: one element */
    len[0] = 1, ba[0] = bb[0] = false;
    k = 1;
  }
  /* Strides: each input's memory is its non-broadcast dimensions packed densely. */
  size_t sa[4], sb[4], ra = 1, rb = 1;
  for (int i = k - 1; i >= 0; i--) {
    sa[i] = ba[i] ? 0 : ra;
    sb[i] = bb[i] ? 0 : rb;
    if (!ba[i]) ra *= len[i];
    if (!bb[i]) rb *= len[i];
  }
  p->n = len[k - 1];
  p->step1 = sa[k - 1];
  p->step2 = sb[k - 1];
  for (int j = 0; j < 3; j++) {
    const int i = k - 4 + j; /* outer loop j holds merged dimension i, if any */
    p->outer[j] = i >= 0 ? len[i] : 1;
    p->s1[j] = i >= 0 ? sa[i] : 0;
    p->s2[j] = i >= 0 ? sb[i] : 0;
  }
}

#endif
