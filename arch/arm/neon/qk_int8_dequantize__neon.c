/* Dequantize int8 / uint8 -> float32, armv8-a NEON, 16 values per step. Matches
 * qk_ref_dequantize (SPEC.md §10) bit for bit: the reference rounds the exact double product
 * scale * (q - zp) once to float32. With q and zp in the same 8-bit type, |q - zp| <= 255 converts
 * to float32 exactly, so one float32 multiply (FMUL, never fused with anything) rounds the same
 * exact product once. q - zp comes from one widening subtract (SSUBL / USUBL): for uint8 the
 * unsigned 16-bit wrap of q - zp read as int16 is the signed difference, as it lies in
 * [-255, 255]. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "neon_tail.h"
#include "variants.h"

/* q - zp for 16 bytes as two int16x8 halves. */
static inline void diff16(int8x16_t q, bool u8, int8x16_t zp, int16x8_t d[2]) {
  if (u8) {
    const uint8x16_t uq = vreinterpretq_u8_s8(q), uz = vreinterpretq_u8_s8(zp);
    d[0] = vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(uq), vget_low_u8(uz)));
    d[1] = vreinterpretq_s16_u16(vsubl_high_u8(uq, uz));
  } else {
    d[0] = vsubl_s8(vget_low_s8(q), vget_low_s8(zp));
    d[1] = vsubl_high_s8(q, zp);
  }
}

static inline void deq16(int8x16_t q, bool u8, int8x16_t zp, float32x4_t s, float32x4_t v[4]) {
  int16x8_t d[2];
  diff16(q, u8, zp, d);
  v[0] = vmulq_f32(s, vcvtq_f32_s32(vmovl_s16(vget_low_s16(d[0]))));
  v[1] = vmulq_f32(s, vcvtq_f32_s32(vmovl_high_s16(d[0])));
  v[2] = vmulq_f32(s, vcvtq_f32_s32(vmovl_s16(vget_low_s16(d[1]))));
  v[3] = vmulq_f32(s, vcvtq_f32_s32(vmovl_high_s16(d[1])));
}

void qk_int8_dequantize__neon_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type != QK_Q_INT8 && type != QK_Q_UINT8) { /* wider types belong to other paths */
    qk_ref_dequantize(x, n, type, scale, zp, y);
    return;
  }
  const bool u8 = type == QK_Q_UINT8;
  const int32_t lo = u8 ? 0 : -128;
  const int8_t *in = x;
  if (zp < lo || zp > lo + 255) {
    /* Outside the API's contract (ops.c rejects it): q - zp may not fit 16 bits, so follow the
     * reference's formula literally. */
    for (size_t i = 0; i < n; i++) {
      const int32_t q = u8 ? ((const uint8_t *)x)[i] : in[i];
      y[i] = (float)((double)scale * (double)(q - zp));
    }
    return;
  }
  const int8x16_t z = u8 ? vreinterpretq_s8_u8(vdupq_n_u8((uint8_t)zp)) : vdupq_n_s8((int8_t)zp);
  const float32x4_t s = vdupq_n_f32(scale);
  float32x4_t v[4];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    deq16(vld1q_s8(in + i), u8, z, s, v);
    for (int j = 0; j < 4; j++) vst1q_f32(y + i + 4 * j, v[j]);
  }
  if (i < n) {
    deq16(qk_neon_load_s8x16_part(in + i, n - i), u8, z, s, v);
    qk_neon_store_f32x16_part(y + i, v, n - i);
  }
}
