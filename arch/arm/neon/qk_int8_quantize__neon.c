/* Quantize float32 -> int8 / uint8, armv8-a NEON, 16 values per step. Matches qk_ref_quantize
 * (SPEC.md §9, §15) bit for bit:
 * - x / scale is a true float32 division (FDIV): a reciprocal multiply differs in the last bit,
 *   which moves exact ties.
 * - FCVTAS rounds to nearest with ties away from zero, as roundf() does, and converts in the same
 *   instruction; it saturates beyond int32 and maps NaN to 0, which are the reference's explicit
 *   rules (INT32_MAX / INT32_MIN, then zp + 0 for NaN).
 * - The zero point is added with a saturating add: the reference adds in int64 and clamps to 8 bits,
 *   and a sum that saturates in int32 is far outside 8 bits either way.
 * - SQXTN to int16 then SQXTN / SQXTUN to 8 bits is exactly the clamp to the type's range. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "neon_tail.h"
#include "requant.h"
#include "variants.h"

static inline int16x8_t quant8(float32x4_t a, float32x4_t b, float32x4_t s, int32x4_t zp) {
  const int32x4_t qa = vqaddq_s32(vcvtaq_s32_f32(vdivq_f32(a, s)), zp);
  const int32x4_t qb = vqaddq_s32(vcvtaq_s32_f32(vdivq_f32(b, s)), zp);
  return vqmovn_high_s32(vqmovn_s32(qa), qb);
}

/* 16 results as bytes: int8 saturates signed, uint8 saturates unsigned (SQXTUN). */
static inline int8x16_t quant16(const float32x4_t v[4], float32x4_t s, int32x4_t zp, bool u8) {
  const int16x8_t lo = quant8(v[0], v[1], s, zp), hi = quant8(v[2], v[3], s, zp);
  if (u8) return vreinterpretq_s8_u8(vqmovun_high_s16(vqmovun_s16(lo), hi));
  return vqmovn_high_s16(vqmovn_s16(lo), hi);
}

void qk_int8_quantize__neon_run(const float *x, size_t n, float scale, int32_t zp, qk_qtype type, void *y) {
  if (type != QK_Q_INT8 && type != QK_Q_UINT8) { /* wider types belong to other paths */
    qk_ref_quantize(x, n, scale, zp, type, y);
    return;
  }
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t z = vdupq_n_s32(zp);
  const bool u8 = type == QK_Q_UINT8;
  int8_t *out = y;
  float32x4_t v[4];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 4; j++) v[j] = vld1q_f32(x + i + 4 * j);
    vst1q_s8(out + i, quant16(v, s, z, u8));
  }
  if (i < n) {
    /* Zero-filled lanes divide to 0 and are never stored. */
    qk_neon_load_f32x16_part(x + i, n - i, v);
    qk_neon_store_s8x16(out + i, quant16(v, s, z, u8), n - i);
  }
}
