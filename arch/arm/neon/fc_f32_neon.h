/* The float FC microkernel behind qk_f32_fc_4x16__neon and its f16w twin qk_f16w_fc_4x16__neon:
 * 4 rows x 16 channels, one FMLA per (row, 4 channels, k). Written once and instantiated twice so
 * the twins share every instruction of the arithmetic; the only difference is whether a weight row
 * is loaded as float32 or loaded as binary16 and widened (FCVTL, exact).
 *
 * Accumulation order, identical in both: per output, acc = 0; acc = fma(w[k], x[k], acc) for
 * k = 0, 1, ..., K-1; then acc + bias, then the reference's clamp. It does not depend on the row's
 * position in the batch or on the tile it lands in (the 1-row case runs two channel blocks at once
 * but each lane still sums its own k in order), so results are reproducible across batch sizes.
 * Against the double-precision reference this is a K-term sum with one rounding per term plus
 * the bias: the harness's gamma_{K+1} bound.
 *
 * Tile: 16 accumulators (4 rows x 4 q registers) + 4 x + 4 weight registers. x is read 4 floats
 * at a time and each lane broadcast by FMLA (by element), so a k step costs 4 weight loads for 16
 * FMLAs. With a single row only 4 accumulator chains would be live, too few to cover the FMA
 * latency on a Cortex-A76-class core (4 cycles, 2 pipes), so one row takes two channel blocks:
 * 8 chains.
 *
 * Packed buffer: per block of 16 channels (the last one zero-padded),
 *   float bias[16]; then w[K][16] as float32 or binary16 (k-major, the 16 channels contiguous).
 * Every block is a multiple of 64 bytes (f32) or 32 bytes (f16w) and starts 16-byte aligned. */
#ifndef QK_ARM_FC_F32_NEON_H
#define QK_ARM_FC_F32_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "f32_neon.h"
#include "neon_tail.h"
#include "qk/float.h"

#define QK_FCF_MR 4
#define QK_FCF_NR 16

static inline size_t qk_fcf_block_bytes(bool half, size_t k) {
  return QK_FCF_NR * sizeof(float) + k * QK_FCF_NR * (half ? 2 : 4);
}

static inline size_t qk_fcf_packed_size(bool half, size_t n, size_t k) {
  return (n + QK_FCF_NR - 1) / QK_FCF_NR * qk_fcf_block_bytes(half, k);
}

static inline void qk_fcf_pack(bool half, const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, block = qk_fcf_block_bytes(half, K);
  for (size_t n0 = 0; n0 < N; n0 += QK_FCF_NR) {
    char *b = (char *)packed + n0 / QK_FCF_NR * block;
    float *pb = (float *)b;
    const size_t nr = N - n0 < QK_FCF_NR ? N - n0 : QK_FCF_NR;
    for (size_t j = 0; j < QK_FCF_NR; j++) pb[j] = j < nr && bias ? bias[n0 + j] : 0.0f;
    if (half) {
      uint16_t *pw = (uint16_t *)(pb + QK_FCF_NR);
      const uint16_t *src = w;
      memset(pw, 0, K * QK_FCF_NR * sizeof *pw);
      for (size_t j = 0; j < nr; j++)
        for (size_t k = 0; k < K; k++) pw[k * QK_FCF_NR + j] = src[(n0 + j) * K + k];
    } else {
      float *pw = pb + QK_FCF_NR;
      const float *src = w;
      memset(pw, 0, K * QK_FCF_NR * sizeof *pw);
      for (size_t j = 0; j < nr; j++)
        for (size_t k = 0; k < K; k++) pw[k * QK_FCF_NR + j] = src[(n0 + j) * K + k];
    }
  }
}

/* The 16 weights of row k of a block, as 4 float32x4. */
static inline __attribute__((always_inline)) void qk_fcf_wrow(bool half, const char *wb, size_t k, float32x4_t w[4]) {
  const void *p = qk_w_at(half, wb, k * QK_FCF_NR);
  qk_w_load8(half, p, w);
  qk_w_load8(half, qk_w_at(half, p, 8), w + 2);
}

/* One k (x lane L of xv) for every live row and block. A macro: the lane must be a constant. */
#define QK_FCF_LANE(L)                                                                    \
  do {                                                                                    \
    _Pragma("GCC unroll 2") for (size_t b = 0; b < nb; b++) {                             \
      float32x4_t w[4];                                                                   \
      qk_fcf_wrow(half, wb[b], k + (L), w);                                               \
      _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++)                             \
          _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)                             \
              acc[r][4 * b + j] = vfmaq_laneq_f32(acc[r][4 * b + j], w[j], xv[r], (L));   \
    }                                                                                     \
  } while (0)

/* mr rows x nb blocks of 16 channels starting at channel n0; mr and nb are constants at every call
 * site, so the loops unroll and acc[][] stays in registers. */
static inline __attribute__((always_inline)) void qk_fcf_tile(const bool half, const size_t mr, const size_t nb,
                                                              const qk_fc_f32_desc *d, const char *packed,
                                                              size_t n0, const float *x, float *y) {
  const size_t K = d->in_ch, N = d->out_ch, block = qk_fcf_block_bytes(half, K);
  const char *blk[2], *wb[2];
  for (size_t b = 0; b < nb; b++) {
    blk[b] = packed + (n0 / QK_FCF_NR + b) * block;
    wb[b] = blk[b] + QK_FCF_NR * sizeof(float);
  }
  float32x4_t acc[QK_FCF_MR][8], xv[QK_FCF_MR];
#pragma GCC unroll 4
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 8
    for (size_t j = 0; j < 4 * nb; j++) acc[r][j] = vdupq_n_f32(0.0f);
  size_t k = 0;
  for (; k + 4 <= K; k += 4) {
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) xv[r] = vld1q_f32(x + r * K + k);
    QK_FCF_LANE(0);
    QK_FCF_LANE(1);
    QK_FCF_LANE(2);
    QK_FCF_LANE(3);
  }
  /* The last K % 4 inputs one at a time (a 4-float load could leave the row, and the buffer). */
  for (; k < K; k++) {
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) xv[r] = vld1q_dup_f32(x + r * K + k);
    QK_FCF_LANE(0);
  }
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max);
#pragma GCC unroll 2
  for (size_t b = 0; b < nb; b++) {
    const float *pb = (const float *)blk[b];
    const size_t c0 = n0 + b * QK_FCF_NR, nr = N - c0 < QK_FCF_NR ? N - c0 : QK_FCF_NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      float32x4_t v[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) v[j] = qk_f32_clamp(vaddq_f32(acc[r][4 * b + j], vld1q_f32(pb + 4 * j)), lo, hi);
      float *yr = y + r * N + c0;
      if (nr == QK_FCF_NR) {
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) vst1q_f32(yr + 4 * j, v[j]);
      } else {
        qk_neon_store_f32x16_part(yr, v, nr);
      }
    }
  }
}

static inline __attribute__((always_inline)) void qk_fcf_run(const bool half, const qk_fc_f32_desc *d,
                                                             const void *packed, size_t batch, const float *x,
                                                             float *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  for (size_t m0 = 0; m0 < batch; m0 += QK_FCF_MR) {
    const size_t mr = batch - m0 < QK_FCF_MR ? batch - m0 : QK_FCF_MR;
    const float *xm = x + m0 * K;
    float *ym = y + m0 * N;
    size_t n0 = 0;
    switch (mr) {
      case 4:
        for (; n0 < N; n0 += QK_FCF_NR) qk_fcf_tile(half, 4, 1, d, packed, n0, xm, ym);
        break;
      case 3:
        for (; n0 < N; n0 += QK_FCF_NR) qk_fcf_tile(half, 3, 1, d, packed, n0, xm, ym);
        break;
      case 2:
        for (; n0 < N; n0 += QK_FCF_NR) qk_fcf_tile(half, 2, 1, d, packed, n0, xm, ym);
        break;
      default:
        for (; n0 + QK_FCF_NR < N; n0 += 2 * QK_FCF_NR) qk_fcf_tile(half, 1, 2, d, packed, n0, xm, ym);
        if (n0 < N) qk_fcf_tile(half, 1, 1, d, packed, n0, xm, ym);
        break;
    }
  }
}

/* The three entry points of one variant. */
#define QK_ARM_FC_F32_DEFINE(name, half)                                                                \
  size_t name##_packed_size(size_t out_ch, size_t in_ch) { return qk_fcf_packed_size(half, out_ch, in_ch); } \
  void name##_pack(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {           \
    qk_fcf_pack(half, d, w, bias, packed);                                                               \
  }                                                                                                      \
  void name##_run(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x, float *y) { \
    qk_fcf_run(half, d, packed, batch, x, y);                                                            \
  }

#endif
