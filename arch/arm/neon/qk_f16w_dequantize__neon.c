/* binary16 -> float32, armv8-a NEON: FCVTL / FCVTL2, 16 values per step. Exact for every
 * non-NaN half. A NaN must come back quiet with its payload (qk_f16_to_f32); FCVTL does that on
 * hardware (FPConvertNaN sets the quiet bit), but qemu-aarch64 7.2 returns a signalling half NaN
 * still signalling (0x7C01 -> 0x7F802000 instead of 0x7FC02000). Setting bit 22 on NaN lanes costs
 * three instructions (FCMEQ, BIC, ORR) per 4 values, changes nothing where FCVTL is right, and
 * makes the variant exact on both. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "variants.h"

static inline float32x4_t quiet(float32x4_t v) {
  /* v == v fails only on NaN lanes: the quiet bit goes where the compare mask is clear (BIC). */
  const uint32x4_t bit = vbicq_u32(vdupq_n_u32(0x00400000u), vceqq_f32(v, v));
  return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(v), bit));
}

static inline void cvt8(uint16x8_t h, float *y) {
  const float16x8_t f = vreinterpretq_f16_u16(h);
  vst1q_f32(y, quiet(vcvt_f32_f16(vget_low_f16(f))));
  vst1q_f32(y + 4, quiet(vcvt_high_f32_f16(f)));
}

void qk_f16w_dequantize__neon_run(const uint16_t *x, size_t n, float *y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    cvt8(vld1q_u16(x + i), y + i);
    cvt8(vld1q_u16(x + i + 8), y + i + 8);
  }
  if (i < n) { /* the last n % 16 through the stack */
    uint16_t buf[16] = {0};
    float out[16];
    memcpy(buf, x + i, (n - i) * sizeof *buf);
    cvt8(vld1q_u16(buf), out);
    cvt8(vld1q_u16(buf + 8), out + 8);
    memcpy(y + i, out, (n - i) * sizeof *out);
  }
}
