/* f16 fully connected with native binary16 arithmetic, 4 rows x 32 channels, armv8.2-a+fp16.
 * This is the f16 path, a different numerical contract from f32/f16w (SPEC.md §14): it is checked
 * against the double reference with the same summation bound but u = 2^-11, and it can overflow
 * where float32 would not (binary16 ends at 65504). What it computes, per output:
 *   xh[k] = binary16(x[k])                      FCVTN, round to nearest even
 *   acc   = 0;  acc = fma(w[k], xh[k], acc)     k = 0, 1, ..., K-1, in binary16 (FMLA .8h)
 *   y     = clamp(float32(acc) + bias)          widening exact, the bias add in float32
 * The order does not depend on the row's position in the batch.
 *
 * Tile: 16 accumulators of 8 halves (4 rows x 32 channels) + 4 weight registers + 4 x registers.
 * Each row's x is read 8 floats at a time and narrowed to one register of halves, whose lanes FMLA
 * (by element) broadcasts: per 8 k, 32 weight loads and 2 loads + 2 FCVTN per row for 128 FMLAs
 * (4 rows). A single row runs two channel blocks at once so 8 chains cover the FMA latency.
 *
 * Packed buffer: per block of 32 channels (the last zero-padded): float bias[32], then binary16
 * w[K][32] (k-major, the 32 channels contiguous); blocks are multiples of 64 bytes. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../neon/f32_neon.h"
#include "variants.h"

#define MR 4
#define NR 32

static size_t block_bytes(size_t k) { return NR * sizeof(float) + k * NR * sizeof(uint16_t); }

size_t qk_f16_fc_4x32__neonfp16_packed_size(size_t out_ch, size_t in_ch) {
  return (out_ch + NR - 1) / NR * block_bytes(in_ch);
}

void qk_f16_fc_4x32__neonfp16_pack(const qk_fc_f32_desc *d, const void *w, const float *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, block = block_bytes(K);
  const uint16_t *src = w;
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    float *pb = (float *)((char *)packed + n0 / NR * block);
    uint16_t *pw = (uint16_t *)(pb + NR);
    const size_t nr = N - n0 < NR ? N - n0 : NR;
    for (size_t j = 0; j < NR; j++) pb[j] = j < nr && bias ? bias[n0 + j] : 0.0f;
    memset(pw, 0, K * NR * sizeof *pw);
    for (size_t j = 0; j < nr; j++)
      for (size_t k = 0; k < K; k++) pw[k * NR + j] = src[(n0 + j) * K + k];
  }
}

/* One k (lane L of xv) for every live row and block. A macro: the lane must be a constant. The
 * empty asm (no instruction) keeps GCC 12 from hoisting the weight loads of all 8 lanes ahead of
 * the FMLAs, which spills accumulators in the 4-row loop. */
#define LANE(L)                                                                   \
  do {                                                                            \
    _Pragma("GCC unroll 2") for (size_t b = 0; b < nb; b++) {                     \
      const float16_t *p = wb[b] + (k + (L)) * NR;                                \
      const float16x8_t w0 = vld1q_f16(p), w1 = vld1q_f16(p + 8);                 \
      const float16x8_t w2 = vld1q_f16(p + 16), w3 = vld1q_f16(p + 24);           \
      _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++) {                   \
        acc[r][4 * b + 0] = vfmaq_laneq_f16(acc[r][4 * b + 0], w0, xv[r], (L));   \
        acc[r][4 * b + 1] = vfmaq_laneq_f16(acc[r][4 * b + 1], w1, xv[r], (L));   \
        acc[r][4 * b + 2] = vfmaq_laneq_f16(acc[r][4 * b + 2], w2, xv[r], (L));   \
        acc[r][4 * b + 3] = vfmaq_laneq_f16(acc[r][4 * b + 3], w3, xv[r], (L));   \
      }                                                                           \
    }                                                                             \
    __asm__ volatile("" ::: "memory");                                            \
  } while (0)

/* mr rows x nb blocks of 32 channels from channel n0; both constants at every call site. */
static inline __attribute__((always_inline)) void tile(const size_t mr, const size_t nb, const qk_fc_f32_desc *d,
                                                       const char *packed, size_t n0, const float *x, float *y) {
  const size_t K = d->in_ch, N = d->out_ch, block = block_bytes(K);
  const float *bias[2];
  const float16_t *wb[2];
  for (size_t b = 0; b < nb; b++) {
    bias[b] = (const float *)(packed + (n0 / NR + b) * block);
    wb[b] = (const float16_t *)(bias[b] + NR);
  }
  float16x8_t acc[MR][8], xv[MR];
#pragma GCC unroll 4
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 8
    for (size_t j = 0; j < 4 * nb; j++) acc[r][j] = vdupq_n_f16(0);
  size_t k = 0;
  for (; k + 8 <= K; k += 8) {
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      const float *xp = x + r * K + k;
      xv[r] = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(xp)), vld1q_f32(xp + 4));
    }
    LANE(0);
    LANE(1);
    LANE(2);
    LANE(3);
    LANE(4);
    LANE(5);
    LANE(6);
    LANE(7);
  }
  /* The last K % 8 inputs one at a time (a wider load could leave the row and the buffer). */
  for (; k < K; k++) {
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      const float16x4_t h = vcvt_f16_f32(vld1q_dup_f32(x + r * K + k));
      xv[r] = vcombine_f16(h, h);
    }
    LANE(0);
  }
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max);
#pragma GCC unroll 2
  for (size_t b = 0; b < nb; b++) {
    const size_t c0 = n0 + b * NR, nr = N - c0 < NR ? N - c0 : NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      float v[NR] __attribute__((aligned(16)));
      float *yr = y + r * N + c0, *dst = nr == NR ? yr : v;
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {
        const float16x8_t a = acc[r][4 * b + j];
        const float32x4_t l = vaddq_f32(vcvt_f32_f16(vget_low_f16(a)), vld1q_f32(bias[b] + 8 * j));
        const float32x4_t h = vaddq_f32(vcvt_high_f32_f16(a), vld1q_f32(bias[b] + 8 * j + 4));
        vst1q_f32(dst + 8 * j, qk_f32_clamp(l, lo, hi));
        vst1q_f32(dst + 8 * j + 4, qk_f32_clamp(h, lo, hi));
      }
      if (nr != NR) memcpy(yr, v, nr * sizeof *v);
    }
  }
}

void qk_f16_fc_4x32__neonfp16_run(const qk_fc_f32_desc *d, const void *packed, size_t batch, const float *x,
                                  float *y) {
  const size_t K = d->in_ch, N = d->out_ch;
  for (size_t m0 = 0; m0 < batch; m0 += MR) {
    const float *xm = x + m0 * K;
    float *ym = y + m0 * N;
    size_t n0 = 0;
    switch (batch - m0 < MR ? batch - m0 : MR) {
      case 4:
        for (; n0 < N; n0 += NR) tile(4, 1, d, packed, n0, xm, ym);
        break;
      case 3:
        for (; n0 < N; n0 += NR) tile(3, 1, d, packed, n0, xm, ym);
        break;
      case 2:
        for (; n0 < N; n0 += NR) tile(2, 1, d, packed, n0, xm, ym);
        break;
      default:
        for (; n0 + NR < N; n0 += 2 * NR) tile(1, 2, d, packed, n0, xm, ym);
        if (n0 < N) tile(1, 1, d, packed, n0, xm, ym);
        break;
    }
  }
}
