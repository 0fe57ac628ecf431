/* int16 Add, TFLite's power-of-two-scale path, AVX2: bit-exact with qk_ref_add_i16_pot
 * (qk/add_i16_pot.h), 32 elements (two vectors) per step, then 16.
 *
 * RoundingDivideByPOT<int16>(x, e) in int16 lanes, as gemmlowp's generic template computes it:
 * q = x >> e (vpsraw: a count of 16 or more fills with the sign bit, as (int)x >> e does for
 * int16 x), q += (x & mask) > (mask >> 1) + (x < 0), with mask = int16(2^e - 1). For e >= 16 the
 * mask is -1 and the same steps give +1 / -1 (the reference's quirk), so one formula covers every
 * e in [0, 31]. Then the saturating int16 add (vpaddsw) and the clamp. The tail (< 16 elements)
 * goes through a stack buffer, so nothing past the tensors is touched. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "variants.h"

typedef struct pot_k {
  __m128i cnt;
  __m256i mask, half, lo, hi;
} pot_k;

static inline __attribute__((always_inline)) __m256i pot16(const pot_k *k, __m256i s, __m256i p) {
  const __m256i thr = _mm256_sub_epi16(k->half, _mm256_cmpgt_epi16(_mm256_setzero_si256(), s));
  const __m256i q =
      _mm256_sub_epi16(_mm256_sra_epi16(s, k->cnt), _mm256_cmpgt_epi16(_mm256_and_si256(s, k->mask), thr));
  return _mm256_min_epi16(_mm256_max_epi16(_mm256_adds_epi16(q, p), k->lo), k->hi);
}

#define LDU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

void qk_i16x8_add_pot__avx2_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2,
                                int16_t *y) {
  const int first_plain = p->input1_shift == 0;
  const int16_t *pl = first_plain ? x1 : x2, *sh = first_plain ? x2 : x1;
  const int e = first_plain ? -p->input2_shift : -p->input1_shift;
  const int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
  const pot_k k = {_mm_cvtsi32_si128(e), _mm256_set1_epi16(mask), _mm256_set1_epi16((int16_t)(mask >> 1)),
                   _mm256_set1_epi16((int16_t)p->act_min), _mm256_set1_epi16((int16_t)p->act_max)};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) { /* two independent vectors per step */
    const __m256i a = pot16(&k, LDU(sh + i), LDU(pl + i)), b = pot16(&k, LDU(sh + i + 16), LDU(pl + i + 16));
    _mm256_storeu_si256((__m256i *)(void *)(y + i), a);
    _mm256_storeu_si256((__m256i *)(void *)(y + i + 16), b);
  }
  if (i + 16 <= n) {
    _mm256_storeu_si256((__m256i *)(void *)(y + i), pot16(&k, LDU(sh + i), LDU(pl + i)));
    i += 16;
  }
  if (i < n) {
    _Alignas(32) int16_t bs[16] = {0}, bp[16] = {0}, by[16];
    memcpy(bs, sh + i, (n - i) * sizeof *bs);
    memcpy(bp, pl + i, (n - i) * sizeof *bp);
    _mm256_store_si256((__m256i *)(void *)by, pot16(&k, LDU(bs), LDU(bp)));
    memcpy(y + i, by, (n - i) * sizeof *by);
  }
}
