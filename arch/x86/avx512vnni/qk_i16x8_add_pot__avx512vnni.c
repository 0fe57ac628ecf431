/* int16 Add, TFLite's power-of-two-scale path, AVX-512BW: bit-exact with qk_ref_add_i16_pot
 * (qk/add_i16_pot.h), 64 elements (two vectors) per step, then 32.
 *
 * RoundingDivideByPOT<int16>(x, e) in int16 lanes, as gemmlowp's generic template computes it:
 * q = x >> e (vpsraw: a count of 16 or more fills with the sign bit, as (int)x >> e does for
 * int16 x), q += (x & mask) > (mask >> 1) + (x < 0), with mask = int16(2^e - 1); the two
 * conditional +1 are mask-register adds (the sign bits by vpmovw2m). For e >= 16 the mask is -1
 * and the same steps give +1 / -1 (the reference's quirk), so one formula covers every e in
 * [0, 31]. Then the saturating int16 add (vpaddsw) and the clamp. The tail uses masked loads and
 * stores, which never touch the masked-out bytes. */
#include <immintrin.h>
#include <stdint.h>

#include "variants.h"

typedef struct pot_k {
  __m128i cnt;
  __m512i mask, half, one, lo, hi;
} pot_k;

static inline __attribute__((always_inline)) __m512i pot32(const pot_k *k, __m512i s, __m512i p) {
  const __m512i thr = _mm512_mask_add_epi16(k->half, _mm512_movepi16_mask(s), k->half, k->one);
  __m512i q = _mm512_sra_epi16(s, k->cnt);
  q = _mm512_mask_add_epi16(q, _mm512_cmpgt_epi16_mask(_mm512_and_si512(s, k->mask), thr), q, k->one);
  return _mm512_min_epi16(_mm512_max_epi16(_mm512_adds_epi16(q, p), k->lo), k->hi);
}

void qk_i16x8_add_pot__avx512vnni_run(const qk_add_i16_pot_params *p, size_t n, const int16_t *x1, const int16_t *x2,
                                      int16_t *y) {
  const int first_plain = p->input1_shift == 0;
  const int16_t *pl = first_plain ? x1 : x2, *sh = first_plain ? x2 : x1;
  const int e = first_plain ? -p->input2_shift : -p->input1_shift;
  const int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
  const pot_k k = {_mm_cvtsi32_si128(e), _mm512_set1_epi16(mask), _mm512_set1_epi16((int16_t)(mask >> 1)),
                   _mm512_set1_epi16(1), _mm512_set1_epi16((int16_t)p->act_min),
                   _mm512_set1_epi16((int16_t)p->act_max)};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) { /* two independent vectors per step */
    const __m512i a = pot32(&k, _mm512_loadu_si512((const void *)(sh + i)), _mm512_loadu_si512((const void *)(pl + i)));
    const __m512i b =
        pot32(&k, _mm512_loadu_si512((const void *)(sh + i + 32)), _mm512_loadu_si512((const void *)(pl + i + 32)));
    _mm512_storeu_si512((void *)(y + i), a);
    _mm512_storeu_si512((void *)(y + i + 32), b);
  }
  for (; i + 32 <= n; i += 32)
    _mm512_storeu_si512((void *)(y + i), pot32(&k, _mm512_loadu_si512((const void *)(sh + i)),
                                              _mm512_loadu_si512((const void *)(pl + i))));
  if (i < n) {
    const __mmask32 m = ((__mmask32)1 << (n - i)) - 1;
    _mm512_mask_storeu_epi16(y + i, m, pot32(&k, _mm512_maskz_loadu_epi16(m, sh + i), _mm512_maskz_loadu_epi16(m, pl + i)));
  }
}
