/* int8 fully connected, 4 rows x 8 channels, K packed in 8s, armv8.2-a + i8mm.
 * Matches qk_ref_fc_int8 bit for bit.
 *
 * SMMLA multiplies a 2x8 int8 block (two rows of x) by an 8x2 block (two channels' weights) into
 * a 2x2 int32 tile, signed by signed, wrapping like the reference's uint32 sum. The packed c8
 * layout [k/8][channel][8] makes each channel pair one contiguous q register; two rows of x are
 * interleaved in 64-bit halves with ZIP1/ZIP2. 8 accumulators (2 row pairs x 4 channel pairs). */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../neon/fc_pack.h"
#include "../neon/requant.h"
#include "variants.h"

#define MR 4
#define NR 8
#define KR 8
#define KSTEP 16 /* bytes of x per row per main-loop step: two K blocks */

size_t qk_int8_fc_4x8c8__i8mm_packed_size(size_t out_ch, size_t in_ch) {
  return qk_arm_fc_packed_size(NR, KR, out_ch, in_ch);
}

void qk_int8_fc_4x8c8__i8mm_pack(const qk_fc_int8_desc *d, const int8_t *w, const int32_t *bias,
                                 void *packed) {
  qk_arm_fc_pack(NR, KR, d, w, bias, packed);
}

static inline int32x4_t s32(int64x2_t v) { return vreinterpretq_s32_s64(v); }

static inline int8x16_t zip_lo(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

static inline int8x16_t zip_hi(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

/* Loads the live rows (src is an expression in r) and interleaves them in pairs: a0 holds the
 * first 8 bytes of rows 2i and 2i+1, a1 the next 8. */
#define LOAD_ROWS(src)                                                                \
  do {                                                                                \
    _Pragma("GCC unroll 4") for (size_t r = 0; r < mr; r++) xv[r] = vld1q_s8(src);    \
    _Pragma("GCC unroll 2") for (size_t i = 0; i < npairs; i++) {                     \
      const int8x16_t lo = xv[2 * i], hi = 2 * i + 1 < mr ? xv[2 * i + 1] : xv[2 * i]; \
      a0[i] = zip_lo(lo, hi);                                                         \
      a1[i] = zip_hi(lo, hi);                                                         \
    }                                                                                 \
  } while (0)

/* One K block of 8 against 8 channels (4 channel pairs, contiguous) for every row pair. */
#define MMLA_BLOCK(a)                                                                  \
  do {                                                                                 \
    const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16);                         \
    const int8x16_t w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);                    \
    wp += NR * KR;                                                                     \
    _Pragma("GCC unroll 2") for (size_t i = 0; i < npairs; i++) {                      \
      acc[i][0] = vmmlaq_s32(acc[i][0], a[i], w0);                                     \
      acc[i][1] = vmmlaq_s32(acc[i][1], a[i], w1);                                     \
      acc[i][2] = vmmlaq_s32(acc[i][2], a[i], w2);                                     \
      acc[i][3] = vmmlaq_s32(acc[i][3], a[i], w3);                                     \
    }                                                                                  \
  } while (0)

/* mr is a constant at every call site. A row pair with one live row multiplies that row twice (no
 * extra loads); the duplicate results are not stored. x rows are read 16 bytes at a time while 16
 * remain; the rest comes from xt, each row's last K % 16 bytes zero-padded. */
static inline __attribute__((always_inline)) void tile_rows(
    const size_t mr, const qk_fc_int8_desc *d, const char *packed, const int8_t *x, int8_t *y,
    const int8_t xt[MR][KSTEP], const qk_neon_out *out) {
  const size_t K = d->in_ch, N = d->out_ch, npairs = (mr + 1) / 2;
  const size_t block = qk_arm_fc_block_bytes(NR, KR, K);
  for (size_t n0 = 0; n0 < N; n0 += NR) {
    const int32_t *params = (const int32_t *)(packed + n0 / NR * block) + 4;
    const int8_t *wp = (const int8_t *)(params + 5 * NR);
    int32x4_t acc[MR / 2][NR / 2];
    int8x16_t xv[MR], a0[MR / 2], a1[MR / 2];
#pragma GCC unroll 2
    for (size_t i = 0; i < npairs; i++)
#pragma GCC unroll 4
      for (int p = 0; p < NR / 2; p++) acc[i][p] = vdupq_n_s32(0);
    const int8_t *xp = x;
    size_t k = K;
    for (; k >= KSTEP; k -= KSTEP, xp += KSTEP) {
      LOAD_ROWS(xp + r * K);
      MMLA_BLOCK(a0);
      MMLA_BLOCK(a1);
    }
    if (k) {
      LOAD_ROWS(xt[r]);
      MMLA_BLOCK(a0);
      /* Packed weights stop at round_up(K, 8): a tail of 8 or fewer has no second block. */
      if (k > KR) MMLA_BLOCK(a1);
    }
    const size_t nr = N - n0 < NR ? N - n0 : NR;
#pragma GCC unroll 2
    for (size_t i = 0; i < npairs; i++) {
      /* acc[i][p] = [r0.c0, r0.c1, r1.c0, r1.c1] for rows 2i, 2i+1 and channels 2p, 2p+1: the
       * 64-bit halves regroup into one row's channels 0-3 and 4-7. */
      const int64x2_t c01 = vreinterpretq_s64_s32(acc[i][0]);
      const int64x2_t c23 = vreinterpretq_s64_s32(acc[i][1]);
      const int64x2_t c45 = vreinterpretq_s64_s32(acc[i][2]);
      const int64x2_t c67 = vreinterpretq_s64_s32(acc[i][3]);
      const int32x4_t e0 = qk_neon_requant(s32(vzip1q_s64(c01, c23)), params, NR, 0, out);
      const int32x4_t e1 = qk_neon_requant(s32(vzip1q_s64(c45, c67)), params, NR, 4, out);
      qk_neon_store_s8x8(y + 2 * i * N + n0, qk_neon_narrow_clamp_s8x8(e0, e1, out), nr);
      if (2 * i + 1 < mr) {
        const int32x4_t o0 = qk_neon_requant(s32(vzip2q_s64(c01, c23)), params, NR, 0, out);
        const int32x4_t o1 = qk_neon_requant(s32(vzip2q_s64(c45, c67)), params, NR, 4, out);
        qk_neon_store_s8x8(y + (2 * i + 1) * N + n0, qk_neon_narrow_clamp_s8x8(o0, o1, out), nr);
      }
    }
  }
}

void qk_int8_fc_4x8c8__i8mm_run(const qk_fc_int8_desc *d, const void *packed, size_t batch,
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
