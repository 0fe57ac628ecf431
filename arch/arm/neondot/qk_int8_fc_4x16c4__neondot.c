/* int8 fully connected, 4 rows x 16 channels, K packed in 4s, armv8.2-a dotprod.
 * Matches qk_ref_fc_int8 bit for bit.
 *
 * SDOT multiplies signed by signed, so x needs no +128 bias and no compensation term; its int32
 * accumulation wraps exactly like the reference's uint32 sum. A 16-byte load of x covers four
 * k-groups of 4, each broadcast by the lane form against 16 channels (4 q registers of weights,
 * contiguous in the packed buffer): 16 accumulators + 4 x + 4 w registers, no spills. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../neon/fc_pack.h"
#include "../neon/requant.h"
#include "variants.h"

#define MR 4
#define NR 16
#define KR 4
#define KSTEP 16 /* bytes of x per row per main-loop step: four lanes of KR */

size_t qk_int8_fc_4x16c4__neondot_packed_size(size_t out_ch, size_t in_ch) {
  return qk_arm_fc_packed_size(NR, KR, out_ch, in_ch);
}

void qk_int8_fc_4x16c4__neondot_pack(const qk_fc_int8_desc *d, const int8_t *w,
                                     const int32_t *bias, void *packed) {
  qk_arm_fc_pack(NR, KR, d, w, bias, packed);
}

/* One k-group of 4 (x lane L) against 16 channels for every live row. A macro because the lane
 * must be a constant expression even at -O0. The empty asm with a memory clobber costs no
 * instruction; it stops GCC's pre-allocation scheduler from hoisting all 16 weight loads of a step
 * ahead of the dots, which with 16 accumulators and 4 x rows live spills accumulators to the stack
 * (GCC 12, -O2/-O3). */
#define DOT_LANE(L)                                                         \
  do {                                                                      \
    const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16);              \
    const int8x16_t w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);         \
    wp += NR * KR;                                                          \
    _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++) {               \
      acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, xv[r], L);                 \
      acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, xv[r], L);                 \
      acc[r][2] = vdotq_laneq_s32(acc[r][2], w2, xv[r], L);                 \
      acc[r][3] = vdotq_laneq_s32(acc[r][3], w3, xv[r], L);                 \
    }                                                                       \
    __asm__ volatile("" ::: "memory");                                      \
  } while (0)

/* mr is a constant at every call site, so the row loops unroll and acc[][] stays in registers.
 * x rows are read 16 bytes at a time while 16 remain; the rest comes from xt, each row's last
 * K % 16 bytes zero-padded, so nothing past the end of x is read. */
static inline __attribute__((always_inline)) void tile_rows(
    const size_t mr, const qk_fc_int8_desc *d, const char *packed, const int8_t *x, int8_t *y,
    const int8_t xt[MR][KSTEP], const qk_neon_out *out) {
  const size_t K = d->in_ch, N = d->out_ch;
  const size_t block = qk_arm_fc_block_bytes(NR, KR, K);
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const int32_t *params = (const int32_t *)(packed + n0 / NR * block) + 4;
    const int8_t *wp = (const int8_t *)(params + 5 * NR);
    int32x4_t acc[MR][4];
    int8x16_t xv[MR];
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
      for (int c = 0; c < 4; c++) acc[r][c] = vdupq_n_s32(0);
    const int8_t *xp = x;
    size_t k = K;
    for (; k >= KSTEP; k -= KSTEP, xp += KSTEP) {
#pragma GCC unroll 4
      for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s8(xp + r * K);
      DOT_LANE(0);
      DOT_LANE(1);
      DOT_LANE(2);
      DOT_LANE(3);
    }
    if (k) {
      /* Packed weights stop at round_up(K, 4): use only the groups that exist. */
#pragma GCC unroll 4
      for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s8(xt[r]);
      DOT_LANE(0);
      if (k > 4) DOT_LANE(1);
      if (k > 8) DOT_LANE(2);
      if (k > 12) DOT_LANE(3);
    }
    const size_t nr = N - n0 < NR ? N - n0 : NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      const int32x4_t q0 = qk_neon_requant(acc[r][0], params, NR, 0, out);
      const int32x4_t q1 = qk_neon_requant(acc[r][1], params, NR, 4, out);
      const int32x4_t q2 = qk_neon_requant(acc[r][2], params, NR, 8, out);
      const int32x4_t q3 = qk_neon_requant(acc[r][3], params, NR, 12, out);
      qk_neon_store_s8x16(y + r * N + n0, qk_neon_narrow_clamp_s8x16(q0, q1, q2, q3, out), nr);
    }
  }
}

void qk_int8_fc_4x16c4__neondot_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
                                    const int8_t *x, int8_t *y) {
  const size_t K = d->in_ch, N = d->out_ch, kt = K % KSTEP;
  const qk_neon_out out = qk_neon_out_init(d);
  for (size_t m0 = 0; m0 < batch; m0 += MR) {
    const size_t mr = batch - m0 < MR ? batch - m0 : MR;
    const int8_t *xm = x + m0 * K;
    int8_t *ym = y + m0 * N;
    int8_t xt[MR][KSTEP] __attribute__((aligned(16)));
    memset(xt, 0, sizeof xt);
    for (size_t r = 0; r < mr; r++) memcpy(xt[r], xm + r * K + (K - kt), kt);
    switch (mr) {
      case 4: tile_rows(4, d, packed, xm, ym, (const int8_t(*)[KSTEP])xt, &out); break;
      case 3: tile_rows(3, d, packed, xm, ym, (const int8_t(*)[KSTEP])xt, &out); break;
      case 2: tile_rows(2, d, packed, xm, ym, (const int8_t(*)[KSTEP])xt, &out); break;
      default: tile_rows(1, d, packed, xm, ym, (const int8_t(*)[KSTEP])xt, &out); break;
    }
  }
}
