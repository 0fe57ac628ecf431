/* The x86 float GEMM ("fully connected") template, shared by the f32 and f16-weight variants of
 * SSE4.1, AVX2+FMA and AVX-512. One .c file per variant includes its ISA's vector helpers
 * (arch/x86/<isa>/f32_vec_<isa>.h) and then this.
 *
 * Why one template for both weight types: SPEC §14 wants every f16w variant bit-identical to its
 * f32 twin run on widened weights. Widening binary16 -> binary32 is exact, so if both variants
 * are the same code with only the weight load differing (a float load, or a load plus
 * vcvtph2ps), every output is the same sequence of roundings in both, by construction.
 *
 * Arithmetic (any order is allowed by the error bound of SPEC §14; this is the one used):
 *  - tiles of MR rows: each output's accumulator starts at its bias and takes the products in
 *    ascending k, one fused multiply-add each (SSE4.1: a multiply, then an add); a row tile
 *    runs across all panels, so its rows of x stay in L1 while the packed weights stream;
 *  - one row (batch 1, memory bound): four panels at a time, each its own weight stream, one
 *    FMA chain per output over ascending k, then + bias; the 0 to 3 panels left over take four
 *    partial sums by k mod 4 (independent chains against the FMA latency), then
 *    (s0 + s1) + (s2 + s3) + bias;
 *  - then min(act_max, .) and max(act_min, .), operands ordered so a NaN stays NaN like the
 *    reference's comparisons do (skipped for the tiles when there is no activation).
 *
 * Packed layout, one block per panel of 2 vectors of output channels (the last panel has 1
 * vector when N mod NR fits one; the channels past N are zero):
 *   float bias[nv * LANES]
 *   w[K][nv * LANES]      float32, or binary16 bits for FG_HALF
 * The k-major panel makes each k step one or two aligned vector loads, and batch 1 reads the
 * packed buffer exactly once, front to back, which is what a memory-bound GEMV wants.
 *
 * The includer defines:
 *   FG_NAME(suffix)  the variant's function names, e.g. qk_f32_fc_14x32__avx512vnni##suffix
 *   FG_HALF          1: weights packed as binary16 and widened in registers; 0: float32
 *   FG_WIDEN_AT_PACK 1: pack() takes binary16 weights but stores float32 (no F16C on the ISA)
 * and the ISA header defines FG_MR (6 or 14), FG_LANES, fg_vec, fg_load, fg_cvth (for FG_HALF),
 * fg_bcast, fg_fma, fg_add, fg_min, fg_max, fg_zero, fg_set1, fg_store, fg_store_part. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qk/float.h"
#include "internal.h"
#include "variants.h"

#ifndef FG_WIDEN_AT_PACK
#define FG_WIDEN_AT_PACK 0
#endif

/* How far ahead batch 1 prefetches each weight stream: the best of 0 to 8 KiB on every ISA in
 * interleaved runs of the FC 1280 -> 1000 with cold weights (3-16% faster there than no
 * prefetch; no effect with the weights in L3). */
#define FG_PREFETCH_BYTES 2048

#define FG_NR (2 * FG_LANES)
#define FG_WBYTES (FG_HALF ? 2 : 4)
#define FG_INLINE static inline __attribute__((always_inline))
#define FG_UNROLL _Pragma("GCC unroll 16")

/* Bytes of a panel of nv vectors over k. */
static size_t fg_panel_bytes(size_t nv, size_t k) { return nv * FG_LANES * (4 + k * FG_WBYTES); }

/* Vectors in the last panel: 0 when N is a multiple of NR. */
static size_t fg_tail_nv(size_t n) { return (n % FG_NR + FG_LANES - 1) / FG_LANES; }

size_t FG_NAME(_packed_size)(size_t n, size_t k) {
  /* Every channel, padding included, holds a bias and k weights. */
  size_t per_ch, total;
  if (!qk_mul_size(k, FG_WBYTES, &per_ch) || !qk_add_size(per_ch, 4, &per_ch) ||
      !qk_mul_size(n / FG_NR * FG_NR + fg_tail_nv(n) * FG_LANES, per_ch, &total))
    return SIZE_MAX & ~(size_t)63; /* unallocatable, and rounding it up to 64 cannot wrap */
  return total;
}

void FG_NAME(_pack)(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {
  const size_t k = d->in_ch, n = d->out_ch;
  char *p = packed;
  for (size_t n0 = 0; n0 < n; n0 += FG_NR) {
    const size_t nv = n - n0 >= FG_NR ? 2 : fg_tail_nv(n), nc = nv * FG_LANES;
    const size_t valid = n - n0 < nc ? n - n0 : nc;
    float *pb = (float *)(void *)p;
    for (size_t c = 0; c < nc; c++) pb[c] = c < valid && bias ? bias[n0 + c] : 0.0f;
    /* Zero first: the padding channels then multiply to 0 and are never stored. */
    memset(p + nc * 4, 0, k * nc * FG_WBYTES);
    for (size_t c = 0; c < valid; c++) {
#if FG_HALF
      const uint16_t *src = (const uint16_t *)w + (n0 + c) * k;
      uint16_t *dst = (uint16_t *)(void *)(p + nc * 4) + c;
      for (size_t i = 0; i < k; i++) dst[i * nc] = src[i];
#elif FG_WIDEN_AT_PACK
      const uint16_t *src = (const uint16_t *)w + (n0 + c) * k;
      float *dst = (float *)(void *)(p + nc * 4) + c;
      for (size_t i = 0; i < k; i++) dst[i * nc] = qk_f16_to_f32(src[i]);
#else
      const float *src = (const float *)w + (n0 + c) * k;
      float *dst = (float *)(void *)(p + nc * 4) + c;
      for (size_t i = 0; i < k; i++) dst[i * nc] = src[i];
#endif
    }
    p += fg_panel_bytes(nv, k);
  }
}

/* Weight vector i of a panel's weight block (vectors in k-major order). */
FG_INLINE fg_vec fg_w(const char *pw, size_t i) {
#if FG_HALF
  return fg_cvth((const uint16_t *)(const void *)pw + i * FG_LANES);
#else
  return fg_load((const float *)(const void *)pw + i * FG_LANES);
#endif
}

/* Clamps (unless there is no activation) and stores nv vectors holding `valid` channels. The
 * operand order of min / max returns the accumulator when it is NaN, as the reference does. */
FG_INLINE void fg_out(float *y, const fg_vec *acc, size_t nv, size_t valid, bool clamp, fg_vec lo, fg_vec hi) {
  FG_UNROLL for (size_t v = 0; v < nv; v++) {
    const fg_vec c = clamp ? fg_max(lo, fg_min(hi, acc[v])) : acc[v];
    if (valid >= (v + 1) * FG_LANES) fg_store(y + v * FG_LANES, c);
    else fg_store_part(y + v * FG_LANES, c, valid - v * FG_LANES);
  }
}

/* mr rows (input rows a[r]) x nv vectors of one panel; mr and nv are constants after inlining,
 * so the accumulators live in registers. */
FG_INLINE void fg_tile(size_t mr, size_t nv, size_t k, const float *const *a, const char *panel, float *y, size_t ldy,
                       size_t valid, bool clamp, fg_vec lo, fg_vec hi) {
  const float *pb = (const float *)(const void *)panel;
  const char *pw = panel + nv * FG_LANES * 4;
  fg_vec acc[FG_MR][2];
  const fg_vec bias0 = fg_load(pb), bias1 = nv > 1 ? fg_load(pb + FG_LANES) : bias0;
  if (k == 0) {
    FG_UNROLL for (size_t r = 0; r < mr; r++) acc[r][0] = bias0, acc[r][1] = bias1;
  } else {
    /* Step 0 starts from the bias: fma(x, w, bias) can write a fresh register, where
     * "acc = bias" would cost a register copy per accumulator on the FMA ports. */
    const fg_vec b0 = fg_w(pw, 0), b1 = nv > 1 ? fg_w(pw, 1) : b0;
    FG_UNROLL for (size_t r = 0; r < mr; r++) {
      const fg_vec xa = fg_bcast(a[r]);
      acc[r][0] = fg_fma(xa, b0, bias0);
      if (nv > 1) acc[r][1] = fg_fma(xa, b1, bias1);
    }
  }
  for (size_t i = 1; i < k; i++) {
    const fg_vec b0 = fg_w(pw, i * nv), b1 = nv > 1 ? fg_w(pw, i * nv + 1) : b0;
    FG_UNROLL for (size_t r = 0; r < mr; r++) {
      const fg_vec xa = fg_bcast(a[r] + i);
      acc[r][0] = fg_fma(xa, b0, acc[r][0]);
      if (nv > 1) acc[r][1] = fg_fma(xa, b1, acc[r][1]);
    }
  }
  FG_UNROLL for (size_t r = 0; r < mr; r++) fg_out(y + r * ldy, acc[r], nv, valid, clamp, lo, hi);
}

/* mr rows of x (row stride k) against every panel; y has row stride n. */
FG_INLINE void fg_rows(size_t mr, size_t k, size_t n, const float *x, const char *p, float *y, float act_lo,
                       float act_hi) {
  const float *a[FG_MR];
  FG_UNROLL for (size_t r = 0; r < mr; r++) a[r] = x + r * k;
  /* The clamp is two operations per accumulator on the FMA ports, noticeable at small k:
   * skipped when there is no activation (MobileNetV2's projection layers). */
  const bool clamp = !(act_lo == -INFINITY && act_hi == INFINITY);
  const fg_vec lo = fg_set1(act_lo), hi = fg_set1(act_hi);
  size_t n0 = 0;
  for (; n0 + FG_NR <= n; n0 += FG_NR, p += fg_panel_bytes(2, k)) fg_tile(mr, 2, k, a, p, y + n0, n, FG_NR, clamp, lo, hi);
  if (n0 < n) {
    if (n - n0 > FG_LANES) fg_tile(mr, 2, k, a, p, y + n0, n, n - n0, clamp, lo, hi);
    else fg_tile(mr, 1, k, a, p, y + n0, n, n - n0, clamp, lo, hi);
  }
}

typedef void (*fg_rows_fn)(size_t k, size_t n, const float *x, const char *p, float *y, float lo, float hi);

#define FG_ROWS(mr)                                                                                          \
  static void fg_rows_##mr(size_t k, size_t n, const float *x, const char *p, float *y, float lo, float hi) { \
    fg_rows(mr, k, n, x, p, y, lo, hi);                                                                      \
  }

FG_ROWS(1) FG_ROWS(2) FG_ROWS(3) FG_ROWS(4) FG_ROWS(5) FG_ROWS(6)
#if FG_MR > 6
FG_ROWS(7) FG_ROWS(8) FG_ROWS(9) FG_ROWS(10) FG_ROWS(11) FG_ROWS(12) FG_ROWS(13) FG_ROWS(14)
#endif
#if FG_MR != 6 && FG_MR != 14
#error f32_gemm.h instantiates tiles of 6 or 14 rows
#endif

static const fg_rows_fn fg_row_fns[FG_MR] = {
    fg_rows_1, fg_rows_2, fg_rows_3, fg_rows_4, fg_rows_5, fg_rows_6,
#if FG_MR > 6
    fg_rows_7, fg_rows_8, fg_rows_9, fg_rows_10, fg_rows_11, fg_rows_12, fg_rows_13, fg_rows_14,
#endif
};

/* Batch 1, one panel (those left over by fg_gemv_streams), four partial sums by k mod 4. */
FG_INLINE void fg_gemv(size_t nv, size_t k, const float *x, const char *panel, float *y, size_t valid, fg_vec lo,
                       fg_vec hi) {
  const char *pw = panel + nv * FG_LANES * 4;
  fg_vec acc[4][2];
  FG_UNROLL for (size_t u = 0; u < 4; u++) acc[u][0] = acc[u][1] = fg_zero();
  size_t i = 0;
  for (; i + 4 <= k; i += 4) {
#if FG_PREFETCH_BYTES
    FG_UNROLL for (size_t o = 0; o < 4 * nv * FG_LANES * FG_WBYTES; o += 64)
      _mm_prefetch(pw + i * nv * FG_LANES * FG_WBYTES + o + FG_PREFETCH_BYTES, _MM_HINT_T0);
#endif
    FG_UNROLL for (size_t u = 0; u < 4; u++) {
      const fg_vec xa = fg_bcast(x + i + u);
      acc[u][0] = fg_fma(xa, fg_w(pw, (i + u) * nv), acc[u][0]);
      if (nv > 1) acc[u][1] = fg_fma(xa, fg_w(pw, (i + u) * nv + 1), acc[u][1]);
    }
  }
  FG_UNROLL for (size_t u = 0; u < 3; u++) /* the k tail goes to partial sums 0, 1, 2 */
    if (i + u < k) {
      const fg_vec xa = fg_bcast(x + i + u);
      acc[u][0] = fg_fma(xa, fg_w(pw, (i + u) * nv), acc[u][0]);
      if (nv > 1) acc[u][1] = fg_fma(xa, fg_w(pw, (i + u) * nv + 1), acc[u][1]);
    }
  const float *pb = (const float *)(const void *)panel;
  fg_vec s[2];
  FG_UNROLL for (size_t v = 0; v < nv; v++)
    s[v] = fg_add(fg_add(fg_add(acc[0][v], acc[1][v]), fg_add(acc[2][v], acc[3][v])), fg_load(pb + v * FG_LANES));
  fg_out(y, s, nv, valid, true, lo, hi);
}

/* Batch 1, FG_STREAMS full panels at once: one weight stream each, which is what keeps enough
 * cache misses in flight when the weights come from L3 or memory (FC 1280 -> 1000 with cold
 * weights: one stream 25-40% slower, two 7-8% slower). Each output is one FMA chain over
 * ascending k, then + bias; the FG_STREAMS * 2 chains hide the FMA latency. */
#define FG_STREAMS 4
/* k steps per prefetch group: one prefetch per 64 bytes of each stream. */
#define FG_KU (2 * FG_LANES * FG_WBYTES >= 64 ? 1 : 64 / (2 * FG_LANES * FG_WBYTES))

FG_INLINE void fg_gemv_streams(size_t k, const float *x, const char *panel, size_t pbytes, float *y, fg_vec lo,
                               fg_vec hi) {
  const char *pw[FG_STREAMS];
  fg_vec acc[FG_STREAMS][2];
  FG_UNROLL for (size_t q = 0; q < FG_STREAMS; q++) {
    pw[q] = panel + q * pbytes + 2 * FG_LANES * 4;
    acc[q][0] = acc[q][1] = fg_zero();
  }
  size_t i = 0;
  for (; i + FG_KU <= k; i += FG_KU) {
#if FG_PREFETCH_BYTES
    FG_UNROLL for (size_t q = 0; q < FG_STREAMS; q++)
      FG_UNROLL for (size_t o = 0; o < FG_KU * 2 * FG_LANES * FG_WBYTES; o += 64)
        _mm_prefetch(pw[q] + i * 2 * FG_LANES * FG_WBYTES + o + FG_PREFETCH_BYTES, _MM_HINT_T0);
#endif
    FG_UNROLL for (size_t u = 0; u < FG_KU; u++) {
      const fg_vec xa = fg_bcast(x + i + u);
      FG_UNROLL for (size_t q = 0; q < FG_STREAMS; q++) {
        acc[q][0] = fg_fma(xa, fg_w(pw[q], (i + u) * 2), acc[q][0]);
        acc[q][1] = fg_fma(xa, fg_w(pw[q], (i + u) * 2 + 1), acc[q][1]);
      }
    }
  }
  for (; i < k; i++) {
    const fg_vec xa = fg_bcast(x + i);
    FG_UNROLL for (size_t q = 0; q < FG_STREAMS; q++) {
      acc[q][0] = fg_fma(xa, fg_w(pw[q], i * 2), acc[q][0]);
      acc[q][1] = fg_fma(xa, fg_w(pw[q], i * 2 + 1), acc[q][1]);
    }
  }
  FG_UNROLL for (size_t q = 0; q < FG_STREAMS; q++) {
    const float *pb = (const float *)(const void *)(panel + q * pbytes);
    fg_vec sum[2];
    FG_UNROLL for (size_t v = 0; v < 2; v++) sum[v] = fg_add(acc[q][v], fg_load(pb + v * FG_LANES));
    fg_out(y + q * FG_NR, sum, 2, FG_NR, true, lo, hi);
  }
}

static void fg_gemv_row(size_t n, size_t k, const float *x, const char *p, float *y, float act_lo, float act_hi) {
  const fg_vec lo = fg_set1(act_lo), hi = fg_set1(act_hi);
  const size_t pbytes = fg_panel_bytes(2, k);
  size_t n0 = 0;
  for (; n0 + FG_STREAMS * FG_NR <= n; n0 += FG_STREAMS * FG_NR, p += FG_STREAMS * pbytes)
    fg_gemv_streams(k, x, p, pbytes, y + n0, lo, hi);
  for (; n0 + FG_NR <= n; n0 += FG_NR, p += pbytes) fg_gemv(2, k, x, p, y + n0, FG_NR, lo, hi);
  if (n0 < n) {
    if (fg_tail_nv(n) == 2) fg_gemv(2, k, x, p, y + n0, n - n0, lo, hi);
    else fg_gemv(1, k, x, p, y + n0, n - n0, lo, hi);
  }
}

void FG_NAME(_run)(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x, float *y) {
  const size_t k = d->in_ch, n = d->out_ch;
  if (batch == 1) {
    fg_gemv_row(n, k, x, packed, y, d->act_min, d->act_max);
    return;
  }
  for (size_t m0 = 0; m0 < batch; m0 += FG_MR) {
    const size_t mr = batch - m0 < FG_MR ? batch - m0 : FG_MR;
    fg_row_fns[mr - 1](k, n, x + m0 * k, packed, y + m0 * n, d->act_min, d->act_max);
  }
}
