/* int8 fully connected, 4 rows x 4 channels, K packed in 16s, armv8-a NEON.
 * Matches qk_ref_fc_int8 bit for bit.
 *
 * Each channel's 16 weights sit in one q register next to 16 input bytes per row, so the low and
 * high halves pair up with SMULL / SMLAL2 and need no lane moves. int8 x int8 products are
 * widened to int16 and pair-summed into int32 by SADALP:
 * - blocks with no -128 weight sum two products in int16 first (SMULL + SMLAL2): |w| <= 127 bounds
 *   each pair by 2 * 128 * 127 = 32512, so it fits int16;
 * - blocks holding a -128 weight can reach (-128)(-128) * 2 = 32768, which does not fit int16, so
 *   each product goes into SADALP on its own (pack() records which blocks need this).
 * 16 accumulators + 4 x + 4 w registers fit the 32 vector registers without spills. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fc_pack.h"
#include "requant.h"
#include "variants.h"

#define MR 4
#define NR 4
#define KR 16

size_t qk_int8_fc_4x4c16__neon_packed_size(size_t out_ch, size_t in_ch) {
  return qk_arm_fc_packed_size(NR, KR, out_ch, in_ch);
}

void qk_int8_fc_4x4c16__neon_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                                  void *packed) {
  qk_arm_fc_pack(NR, KR, d, w, bias, packed);
}

/* One K step of 16 for one row against the 4 channel vectors. Two variants of the widening. */
#define ROW_PAIRED(r)                                                      \
  do {                                                                     \
    const int8x8_t xl = vget_low_s8(xv[r]);                                \
    for (int c = 0; c < NR; c++) {                                         \
      int16x8_t p = vmull_s8(xl, vget_low_s8(wv[c]));                      \
      p = vmlal_high_s8(p, xv[r], wv[c]);                                  \
      acc[r][c] = vpadalq_s16(acc[r][c], p);                               \
    }                                                                      \
  } while (0)

#define ROW_SINGLE(r)                                                              \
  do {                                                                             \
    const int8x8_t xl = vget_low_s8(xv[r]);                                        \
    for (int c = 0; c < NR; c++) {                                                 \
      acc[r][c] = vpadalq_s16(acc[r][c], vmull_s8(xl, vget_low_s8(wv[c])));        \
      acc[r][c] = vpadalq_s16(acc[r][c], vmull_high_s8(xv[r], wv[c]));             \
    }                                                                              \
  } while (0)

/* mr is a constant at every call site, so the row loops unroll and acc[][] stays in registers.
 * x rows are read 16 bytes at a time while 16 remain; the rest comes from xt, each row's last
 * K % 16 bytes zero-padded, so nothing past the end of x is read. */
static inline __attribute__((always_inline)) void tile_rows(
    const size_t mr, const qk_fc_int8_desc *d, const char *packed, const int8_t *x, int8_t *y,
    const int8_t xt[MR][KR], const qk_neon_out *out) {
  const size_t K = d->in_ch, N = d->out_ch;
  const size_t block = qk_arm_fc_block_bytes(NR, KR, K);
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const char *b = packed + n0 / NR * block;
    const int32_t flags = *(const int32_t *)b;
    const int32_t *params = (const int32_t *)b + 4;
    const int8_t *wp = (const int8_t *)(params + 5 * NR);
    int32x4_t acc[MR][NR];
    int8x16_t xv[MR], wv[NR];
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 4
      for (int c = 0; c < NR; c++) acc[r][c] = vdupq_n_s32(0);
    const int8_t *xp = x;
    size_t k = K;
    if (flags & QK_ARM_FC_HAS_M128) {
      for (; k >= KR; k -= KR, xp += KR) {
#pragma GCC unroll 4
        for (int c = 0; c < NR; c++) wv[c] = vld1q_s8(wp + 16 * c);
        wp += NR * KR;
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) {
          xv[r] = vld1q_s8(xp + r * K);
          ROW_SINGLE(r);
        }
      }
    } else {
      for (; k >= KR; k -= KR, xp += KR) {
#pragma GCC unroll 4
        for (int c = 0; c < NR; c++) wv[c] = vld1q_s8(wp + 16 * c);
        wp += NR * KR;
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) {
          xv[r] = vld1q_s8(xp + r * K);
          ROW_PAIRED(r);
        }
      }
    }
    if (k) {
      /* With k > 8 both halves of the padded tail are live: the block's choice still applies. */
#pragma GCC unroll 4
      for (int c = 0; c < NR; c++) wv[c] = vld1q_s8(wp + 16 * c);
      if (flags & QK_ARM_FC_HAS_M128) {
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) {
          xv[r] = vld1q_s8(xt[r]);
          ROW_SINGLE(r);
        }
      } else {
#pragma GCC unroll 4
        for (size_t r = 0; r < mr; r++) {
          xv[r] = vld1q_s8(xt[r]);
          ROW_PAIRED(r);
        }
      }
    }
    const size_t nr = N - n0 < NR ? N - n0 : NR;
    int32x4_t q[MR];
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      /* Horizontal sums: lane c of s is the total of acc[r][c]. */
      const int32x4_t s = vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]),
                                     vpaddq_s32(acc[r][2], acc[r][3]));
      q[r] = qk_neon_requant(s, params, NR, 0, out);
    }
    /* Two rows share one narrowing: row r in bytes 0-3, row r+1 in bytes 4-7. */
#pragma GCC unroll 2
    for (size_t r = 0; r < mr; r += 2) {
      const int8x8_t v = qk_neon_narrow_clamp_s8x8(q[r], r + 1 < mr ? q[r + 1] : q[r], out);
      qk_neon_store_s8x8(y + r * N + n0, v, nr);
      if (r + 1 < mr) qk_neon_store_s8x8(y + (r + 1) * N + n0, vext_s8(v, v, 4), nr);
    }
  }
}

void qk_int8_fc_4x4c16__neon_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
                                 const int8_t *x, int8_t *y) {
  const size_t K = d->in_ch, N = d->out_ch, kt = K % KR;
  const qk_neon_out out = qk_neon_out_init(d);
  for (size_t m0 = 0; m0 < batch; m0 += MR) {
    const size_t mr = batch - m0 < MR ? batch - m0 : MR;
    const int8_t *xm = x + m0 * K;
    int8_t *ym = y + m0 * N;
    int8_t xt[MR][KR] __attribute__((aligned(16)));
    memset(xt, 0, sizeof xt);
    for (size_t r = 0; r < mr; r++) memcpy(xt[r], xm + r * K + (K - kt), kt);
    switch (mr) {
      case 4: tile_rows(4, d, packed, xm, ym, (const int8_t(*)[KR])xt, &out); break;
      case 3: tile_rows(3, d, packed, xm, ym, (const int8_t(*)[KR])xt, &out); break;
      case 2: tile_rows(2, d, packed, xm, ym, (const int8_t(*)[KR])xt, &out); break;
      default: tile_rows(1, d, packed, xm, ym, (const int8_t(*)[KR])xt, &out); break;
    }
  }
}
