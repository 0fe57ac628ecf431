/* 16x8 fully connected, AVX2: 6 rows x 16 channels, K by int16 pairs through vpmaddwd (each lane:
 * x0 w0 + x1 w1 in int32, which cannot overflow: |w| <= 128) and vpaddd. The body, the packed
 * layout and the exactness argument are shared with the AVX-VNNI variant: ../i16x8_fc256.h. */
#include <immintrin.h>
#include <stdint.h>

#define QK_NAME(s) qk_i16x8_fc_6x16c2__avx2##s

/* vpaddd's view; unsigned so the wrapping adds are defined C. */
typedef uint32_t acc_v __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) acc_v dot(acc_v acc, __m256i b, __m256i w) {
  return acc + (acc_v)_mm256_madd_epi16(b, w);
}

#include "../i16x8_fc256.h"
