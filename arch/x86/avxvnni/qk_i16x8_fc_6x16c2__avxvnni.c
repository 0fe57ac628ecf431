/* 16x8 fully connected, AVX-VNNI: 6 rows x 16 channels, K by int16 pairs through the VEX-encoded
 * vpdpwssd on ymm (acc + x0 w0 + x1 w1 per int32 lane, wrapping: the non-saturating form, so the
 * int32 partial is the exact sum whenever that fits — see ../i16x8_fc_common.h). The body, the
 * packed layout and the exactness argument are shared with the AVX2 variant: ../i16x8_fc256.h. */
#include <immintrin.h>
#include <stdint.h>

#define QK_NAME(s) qk_i16x8_fc_6x16c2__avxvnni##s

/* vpdpwssd's own view of its operands. */
typedef int32_t acc_v __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) acc_v dot(acc_v acc, __m256i b, __m256i w) {
  return (acc_v)_mm256_dpwssd_avx_epi32((__m256i)acc, b, w);
}

#include "../i16x8_fc256.h"
