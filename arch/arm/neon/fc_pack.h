/* Packed layout shared by the ARM int8 FC variants (neon, neondot, i8mm), and the scalar code that
 * writes it. Included by each ISA folder; plain C, so it builds under any -march.
 *
 * The buffer is a sequence of blocks, one per NR output channels (the last one zero-padded):
 *   int32 flags[4]                          QK_ARM_FC_HAS_M128 if any weight of the block is -128
 *   int32 bias[NR]   bias[o] - input_zp * sum_k w[o,k]  (uint32 wrap, as the reference sums)
 *   int32 mult[NR]   multiplier[o]
 *   int32 lsh[NR]    max(shift, 0)          double rounding: left shift before SRDHM
 *   int32 rsh[NR]    -max(-shift, 0)        double rounding: right shift as a negative vshl count
 *   int32 tneg[NR]   shift - 31             single rounding: -(31 - shift) as a vrshl count
 *   int8  w[KP/KR][NR][KR]                  KP = round_up(K, KR), zero-padded in k and in o
 * Every part is a multiple of 16 bytes (NR is a multiple of 4, KR of 4), so each block and its
 * weights start 16-byte aligned. Both roundings' constants are kept so run() follows the rounding
 * of the descriptor it is given, not the one seen at pack time. Padded channels have multiplier 0
 * and all-zero weights: they compute a harmless 0 that is never stored. */
#ifndef QK_ARM_FC_PACK_H
#define QK_ARM_FC_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "qk/fc.h"

#define QK_ARM_FC_HAS_M128 1

static inline size_t qk_arm_fc_kp(size_t k, size_t kr) { return (k + kr - 1) / kr * kr; }

static inline size_t qk_arm_fc_block_bytes(size_t nr, size_t kr, size_t k) {
  return 16 + 5 * nr * sizeof(int32_t) + qk_arm_fc_kp(k, kr) * nr;
}

static inline size_t qk_arm_fc_packed_size(size_t nr, size_t kr, size_t n, size_t k) {
  return (n + nr - 1) / nr * qk_arm_fc_block_bytes(nr, kr, k);
}

static inline void qk_arm_fc_pack(size_t nr, size_t kr, const qk_fc_int8_desc *d, const int8_t *w,
                                  const int32_t *bias, void *packed) {
  const size_t n = d->out_ch, k = d->in_ch, kp = qk_arm_fc_kp(k, kr);
  const size_t block = qk_arm_fc_block_bytes(nr, kr, k);
  for (size_t n0 = 0; n0 < n; n0 += nr) {
    char *b = (char *)packed + n0 / nr * block;
    int32_t *hdr = (int32_t *)b;
    int32_t *pb = hdr + 4, *pm = pb + nr, *pl = pm + nr, *pr = pl + nr, *pt = pr + nr;
    int8_t *pw = (int8_t *)(pt + nr);
    int32_t flags = 0;
    for (size_t j = 0; j < nr; j++) {
      const size_t o = n0 + j;
      if (o >= n) {
        pb[j] = pm[j] = pl[j] = pr[j] = 0;
        pt[j] = -31;
        continue;
      }
      uint32_t sum = 0;
      for (size_t i = 0; i < k; i++) {
        sum += (uint32_t)(int32_t)w[o * k + i];
        if (w[o * k + i] == INT8_MIN) flags |= QK_ARM_FC_HAS_M128;
      }
      const uint32_t b0 = bias ? (uint32_t)bias[o] : 0u;
      pb[j] = (int32_t)(b0 - (uint32_t)d->input_zp * sum);
      pm[j] = d->multiplier[o];
      const int32_t s = d->shift[o];
      pl[j] = s > 0 ? s : 0;
      pr[j] = s > 0 ? 0 : s;
      pt[j] = s - 31;
    }
    hdr[0] = flags;
    hdr[1] = hdr[2] = hdr[3] = 0;
    for (size_t kb = 0; kb < kp; kb += kr)
      for (size_t j = 0; j < nr; j++)
        for (size_t i = 0; i < kr; i++) {
          const size_t o = n0 + j, kk = kb + i;
          *pw++ = (o < n && kk < k) ? w[o * k + kk] : 0;
        }
  }
}

#endif
