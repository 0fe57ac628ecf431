/* Shared by the x86 16x8 fully connected kernels (arch/x86/<isa>/qk_i16x8_fc_*): the int32
 * flush bound and the pack-time half of MBQM64 (SPEC.md §1.5, qk_mbqm64 in kernels/quant.c).
 *
 * How the kernels compute y = clamp(int32((acc * rm + 2^(t-1)) >> t)), acc = sum w*x + bias:
 *  - Weights are packed NEGATED, as int16: w' = -w in [-127, 128]. Lane sums of int16 pairs
 *    (pmaddwd / vpdpwssd) then add up -S, where S = sum w*x is the part of acc from one chunk.
 *  - Each chunk's int32 partial -S is folded into two int64 lanes with a signed 32x32->64
 *    multiply (pmuldq) by -rm: (-S) * (-rm) = S * rm, exact. The int64 start value is
 *    bias * rm + 2^(t-1), so after the last chunk the lanes hold acc * rm + 2^(t-1) exactly.
 *  - |acc| < 2^47 (the contract: K <= 2^24, |bias| <= 2^40) and rm <= 0x7FFF, so every int64
 *    partial stays below 2^62 in magnitude, and the final shift by t gives qk_mbqm64's value
 *    whose low dword is TFLite's truncating int32 cast.
 *
 * Why negated weights: the int32 partial must hold the chunk's sum exactly (wrapping in between
 * does not matter, only the final value must fit). A pair step adds at most 2 * 32768 * 128 =
 * 2^23 in magnitude, so 256 steps reach 2^31 — but with w itself that extreme is +2^31 (all
 * x = -32768 against all w = -128), one above INT32_MAX. With -w the extremes are
 *   pair step in [2 * (-32768) * 128, 2 * 32767 * 128] = [-2^23, 2^23 - 256],
 *   256 steps  in [-2^31, 2^31 - 65536]  (inside int32),
 * so a partial may take up to QK_I16X8_FLUSH_PAIRS = 256 pair steps (512 K elements) and no
 * more: 257 steps of -2^23 would be -2^31 - 2^23. */
#ifndef QK_X86_I16X8_FC_COMMON_H
#define QK_X86_I16X8_FC_COMMON_H

#include <stdint.h>

/* Pair steps (K elements / 2) an int32 partial may take before it must be folded into int64. */
#define QK_I16X8_FLUSH_PAIRS 256

/* The per-channel constants of qk_mbqm64(acc, m, shift): reduced multiplier rm (15 bits,
 * rounded), the shift t = 15 - shift in [8, 46], and the int64 start value bias * rm + 2^(t-1)
 * (|bias * rm| <= 2^40 * 0x7FFF < 2^55). `extra` is added to the start value: 2^62 for the
 * kernels without a 64-bit arithmetic shift (see qk_i16x8_shift_fix). */
typedef struct qk_i16x8_chan {
  int32_t neg_rm; /* -rm */
  int32_t t;
  int64_t init;
} qk_i16x8_chan;

static inline qk_i16x8_chan qk_i16x8_chan_make(int32_t m, int32_t shift, int64_t bias, int64_t extra) {
  const int64_t rm = m < 0x7FFF0000 ? ((int64_t)m + (1 << 15)) >> 16 : 0x7FFF;
  const int32_t t = 15 - shift;
  return (qk_i16x8_chan){(int32_t)-rm, t, bias * rm + (INT64_C(1) << (t - 1)) + extra};
}

/* Without vpsraq (SSE4.1, AVX2) the start value carries +2^62: acc * rm + 2^(t-1) + 2^62 lies in
 * (0, 2^63), so a LOGICAL shift by t is exact and yields floor(...) + 2^(62-t). Only the low
 * dword is kept, so the correction is -(2^(62-t) mod 2^32): nonzero only for t >= 31. */
#define QK_I16X8_SHIFT_BIAS (INT64_C(1) << 62)
static inline int32_t qk_i16x8_shift_fix(int32_t t) {
  return 62 - t < 32 ? (int32_t)(0u - ((uint32_t)1 << (62 - t))) : 0;
}

#endif
