/* 16x8 fully connected, 4 rows x 16 channels, armv8-a NEON. Matches qk_ref_fc_i16x8 (SPEC.md §4,
 * MBQM64 of §1.5) bit for bit.
 *
 * Products: weights are packed k-major ([K][16] per block of 16 channels, kr = 1), so one 16-byte
 * load gives one k for all 16 channels; SXTL / SXTL2 widen them to int16 and SMLAL / SMLAL2 by
 * element multiply them by x[r][k] (a lane of the row's 8-value load) into four int32x4 per row.
 * 16 accumulators + 4 x + 2 weight registers fit the 32 vector registers.
 *
 * Overflow bound: |w * x| <= 128 * 32768 = 2^22, and every int32 lane takes exactly one product
 * per k. 512 products could reach 512 * 2^22 = 2^31 (all x = -32768 against w = -128), one past
 * INT32_MAX, so 511 is the hard limit; the lanes are flushed into int64 every CHUNK = 256 k
 * (|partial| <= 2^30), a whole number of 8-wide steps. The int64 sums live on the stack: they are
 * touched once per 256 k, and K <= 256 never uses them.
 *
 * Epilogue: + int64 bias, MBQM64 per channel (i16x8_neon.h), XTN truncation to int32, saturating
 * narrow and clamp to int16.
 *
 * Memory: x rows are read 8 int16 at a time while 8 remain; the last K % 8 come from a zero-padded
 * stack copy. y is written with full vectors only where 16 channels exist. Packed block (64-byte
 * multiple, so every block stays 64-byte aligned), NR = 16, K8 = K rounded up to 8:
 *   int64 bias[16]  int32 rm[16]  int64 tneg[16] (= shift - 15)  int8 w[K8][16]
 * Padded channels and k have zero weights, bias and multiplier: computed, never stored. */
#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "i16x8_neon.h"
#include "variants.h"

#define MR 4
#define NR 16
#define CHUNK 256 /* k per int32 partial sum: see the bound above */

enum { OFF_RM = NR * 8, OFF_T = OFF_RM + NR * 4, OFF_W = OFF_T + NR * 8 };

static size_t k8(size_t k) { return (k + 7) / 8 * 8; }
static size_t block_bytes(size_t k) { return OFF_W + k8(k) * NR; }

size_t qk_i16x8_fc_4x16c1__neon_packed_size(size_t out_ch, size_t in_ch) {
  return (out_ch + NR - 1) / NR * block_bytes(in_ch);
}

void qk_i16x8_fc_4x16c1__neon_pack(const qk_fc_i16x8_desc *d, const int8_t *w, const int64_t *bias, void *packed) {
  const size_t N = d->out_ch, K = d->in_ch, KP = k8(K);
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    char *b = (char *)packed + n0 / NR * block_bytes(K);
    int64_t *pb = (int64_t *)(void *)b, *pt = (int64_t *)(void *)(b + OFF_T);
    int32_t *pm = (int32_t *)(void *)(b + OFF_RM);
    int8_t *pw = (int8_t *)(b + OFF_W);
    for (size_t j = 0; j < NR; j++) {
      const size_t o = n0 + j;
      pb[j] = o < N && bias ? bias[o] : 0;
      pm[j] = o < N ? qk_i16x8_reduced_multiplier(d->multiplier[o]) : 0;
      pt[j] = o < N ? d->shift[o] - 15 : -15;
    }
    for (size_t k = 0; k < KP; k++)
      for (size_t j = 0; j < NR; j++) *pw++ = n0 + j < N && k < K ? w[(n0 + j) * K + k] : 0;
  }
}

/* acc[r][*] += x[r][k] * w[k][0..15] for the k in lane L of xv[r]; wp points at the step's first k.
 * A macro, not a loop: SMLAL by element takes the lane as an immediate. */
#define MAC_LANE(L)                                                                  \
  do {                                                                               \
    const int8x16_t w8 = vld1q_s8(wp + (L) * NR);                                    \
    const int16x8_t wl = vmovl_s8(vget_low_s8(w8)), wh = vmovl_high_s8(w8);          \
    _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++) {                        \
      acc[r][0] = vmlal_laneq_s16(acc[r][0], vget_low_s16(wl), xv[r], L);            \
      acc[r][1] = vmlal_high_laneq_s16(acc[r][1], wl, xv[r], L);                     \
      acc[r][2] = vmlal_laneq_s16(acc[r][2], vget_low_s16(wh), xv[r], L);            \
      acc[r][3] = vmlal_high_laneq_s16(acc[r][3], wh, xv[r], L);                     \
    }                                                                                \
  } while (0)

#define MAC8()                                                                              \
  do {                                                                                      \
    MAC_LANE(0);                                                                            \
    MAC_LANE(1);                                                                            \
    MAC_LANE(2);                                                                            \
    MAC_LANE(3);                                                                            \
    MAC_LANE(4);                                                                            \
    MAC_LANE(5);                                                                            \
    MAC_LANE(6);                                                                            \
    MAC_LANE(7);                                                                            \
    wp += 8 * NR;                                                                           \
  } while (0)

/* The two int64 halves of int32 lanes: channels 4q..4q+1 and 4q+2..4q+3. */
static inline __attribute__((always_inline)) void widen_add(int64_t *s, int32x4_t a) {
  vst1q_s64(s, vaddw_s32(vld1q_s64(s), vget_low_s32(a)));
  vst1q_s64(s + 2, vaddw_high_s32(vld1q_s64(s + 2), a));
}

/* mr is a constant at every call site, so the row loops unroll and acc[][] stays in registers. */
static inline __attribute__((always_inline)) void tile(const size_t mr, const qk_fc_i16x8_desc *d, const char *packed,
                                                       const int16_t *x, int16_t *y, const int16_t xt[MR][8]) {
  const size_t K = d->in_ch, N = d->out_ch, steps = k8(K) / 8, full = K / 8;
  const size_t bb = block_bytes(K);
  const int16x8_t lo = vdupq_n_s16((int16_t)d->act_min), hi = vdupq_n_s16((int16_t)d->act_max);
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const char *b = packed + n0 / NR * bb;
    const int8_t *wp = (const int8_t *)(b + OFF_W);
    int64_t sum[MR][NR] __attribute__((aligned(16))); /* int64 partials, from the bias on */
    int32x4_t acc[MR][4];
    int16x8_t xv[MR];
    size_t s = 0;
    bool spilled = false;
    for (;;) {
#pragma GCC unroll 4
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_s32(0);
      const size_t end = s + CHUNK / 8 < steps ? s + CHUNK / 8 : steps;
      for (const size_t e = end < full ? end : full; s < e; s++) {
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s16(x + r * K + 8 * s);
        MAC8();
      }
      if (s < end) { /* the padded last step (end == steps) */
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s16(xt[r]);
        MAC8();
        s++;
      }
      if (s == steps) break;
      if (!spilled) { /* first flush: start the int64 sums from the bias */
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) memcpy(sum[r], b, sizeof sum[r]);
        spilled = true;
      }
#pragma GCC unroll 4
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) widen_add(&sum[r][4 * q], acc[r][q]);
    }
    const int64_t *base = spilled ? &sum[0][0] : (const int64_t *)(const void *)b;
    const size_t rstride = spilled ? NR : 0; /* the bias is the same for every row */
    const int32_t *rm = (const int32_t *)(const void *)(b + OFF_RM);
    const int64_t *tn = (const int64_t *)(const void *)(b + OFF_T);
    const size_t nr = N - n0 < NR ? N - n0 : NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      const int64_t *p = base + r * rstride;
      int32x4_t v[4];
#pragma GCC unroll 4
      for (int q = 0; q < 4; q++) {
        const int64x2_t a = vaddw_s32(vld1q_s64(p + 4 * q), vget_low_s32(acc[r][q]));
        const int64x2_t c = vaddw_high_s32(vld1q_s64(p + 4 * q + 2), acc[r][q]);
        v[q] = qk_neon_mbqm64x4(a, c, vld1q_s32(rm + 4 * q), vld1q_s64(tn + 4 * q), vld1q_s64(tn + 4 * q + 2));
      }
      qk_neon_store_s16x16(y + r * N + n0, qk_neon_narrow_clamp_s16(v[0], v[1], lo, hi),
                           qk_neon_narrow_clamp_s16(v[2], v[3], lo, hi), nr);
    }
  }
}

void qk_i16x8_fc_4x16c1__neon_run(const qk_fc_i16x8_desc *d, const void *packed, size_t batch, const int16_t *x,
                                  int16_t *y) {
  const size_t K = d->in_ch, N = d->out_ch, kt = K % 8;
  for (size_t m0 = 0; m0 < batch; m0 += MR) {
    const size_t mr = batch - m0 < MR ? batch - m0 : MR;
    const int16_t *xm = x + m0 * K;
    int16_t *ym = y + m0 * N;
    int16_t xt[MR][8] __attribute__((aligned(16)));
    memset(xt, 0, sizeof xt);
    for (size_t r = 0; r < mr; r++) memcpy(xt[r], xm + r * K + (K - kt), kt * sizeof *xm);
    switch (mr) {
      case 4: tile(4, d, packed, xm, ym, (const int16_t(*)[8])xt); break;
      case 3: tile(3, d, packed, xm, ym, (const int16_t(*)[8])xt); break;
      case 2: tile(2, d, packed, xm, ym, (const int16_t(*)[8])xt); break;
      default: tile(1, d, packed, xm, ym, (const int16_t(*)[8])xt); break;
    }
  }
}
