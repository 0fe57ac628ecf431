/* Dequantize int16 -> float32, armv8-a NEON, 16 values per step. Matches qk_ref_dequantize
 * (SPEC.md §10) bit for bit: the reference rounds the exact double product scale * (q - zp) once
 * to float32. With zp inside int16, q - zp comes exactly from one widening subtract (SSUBL) and
 * |q - zp| <= 65535 < 2^24 converts to float32 exactly, so one float32 multiply (FMUL, never fused
 * with anything) rounds the same exact product once. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "i16x8_neon.h"
#include "neon_tail.h"
#include "variants.h"

static inline void deq16(int16x8_t a, int16x8_t b, int16x8_t zp, float32x4_t s, float32x4_t v[4]) {
  v[0] = vmulq_f32(s, vcvtq_f32_s32(vsubl_s16(vget_low_s16(a), vget_low_s16(zp))));
  v[1] = vmulq_f32(s, vcvtq_f32_s32(vsubl_high_s16(a, zp)));
  v[2] = vmulq_f32(s, vcvtq_f32_s32(vsubl_s16(vget_low_s16(b), vget_low_s16(zp))));
  v[3] = vmulq_f32(s, vcvtq_f32_s32(vsubl_high_s16(b, zp)));
}

void qk_i16x8_dequantize__neon_run(const void *x, size_t n, qk_qtype type, float scale, int32_t zp, float *y) {
  if (type != QK_Q_INT16 || zp < -32768 || zp > 32767) {
    /* The 8-bit types belong to the int8 path; a zero point outside int16 is outside the API's
     * contract (q - zp may not convert exactly): follow the reference literally. */
    qk_ref_dequantize(x, n, type, scale, zp, y);
    return;
  }
  const int16_t *in = x;
  const int16x8_t z = vdupq_n_s16((int16_t)zp);
  const float32x4_t s = vdupq_n_f32(scale);
  float32x4_t v[4];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    deq16(vld1q_s16(in + i), vld1q_s16(in + i + 8), z, s, v);
    for (int j = 0; j < 4; j++) vst1q_f32(y + i + 4 * j, v[j]);
  }
  if (i < n) {
    int16x8_t q[2];
    qk_neon_load_s16x16_part(in + i, n - i, q);
    deq16(q[0], q[1], z, s, v);
    qk_neon_store_f32x16_part(y + i, v, n - i);
  }
}
