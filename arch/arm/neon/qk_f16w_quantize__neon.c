/* float32 -> binary16, armv8-a NEON: FCVTN / FCVTN2, 16 values per step. Under the FPCR Linux
 * gives user space (round to nearest even, no flush to zero, IEEE half, default-NaN off) FCVTN is
 * exactly qk_f32_to_f16: ties to even, subnormals kept, overflow to infinity, NaNs quieted with their
 * top payload bits (FPConvertNaN). Checked bit for bit over every half, every midpoint and its
 * neighbours, and NaN payloads; qemu-aarch64 7.2 agrees with the reference on all of them. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "variants.h"

static inline uint16x8_t cvt8(float32x4_t a, float32x4_t b) {
  return vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(a), b));
}

void qk_f16w_quantize__neon_run(const float *x, size_t n, uint16_t *y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint16x8_t lo = cvt8(vld1q_f32(x + i), vld1q_f32(x + i + 4));
    const uint16x8_t hi = cvt8(vld1q_f32(x + i + 8), vld1q_f32(x + i + 12));
    vst1q_u16(y + i, lo);
    vst1q_u16(y + i + 8, hi);
  }
  if (i < n) { /* the last n % 16 through the stack: no access past either buffer */
    float buf[16] = {0};
    uint16_t out[16];
    memcpy(buf, x + i, (n - i) * sizeof *buf);
    vst1q_u16(out, cvt8(vld1q_f32(buf), vld1q_f32(buf + 4)));
    vst1q_u16(out + 8, cvt8(vld1q_f32(buf + 8), vld1q_f32(buf + 12)));
    memcpy(y + i, out, (n - i) * sizeof *out);
  }
}
