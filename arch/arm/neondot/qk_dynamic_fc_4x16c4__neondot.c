/* Dynamic-range fully connected, 4 rows x 16 channels, K in groups of 4, armv8.2-a dotprod.
 * Bit for bit equal to qk_ref_fc_dynamic, symmetric and asymmetric row quantization included:
 * the quantization, layout, microkernel and the exact epilogue order are in dyn_neondot.h.
 * Workspace: each batch row's scale and offset, then its quantized values (Kp bytes, zero-padded). */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "dyn_neondot.h"
#include "variants.h"

static size_t meta_bytes(size_t batch) { return (batch * 8 + 63) / 64 * 64; }

size_t qk_dynamic_fc_4x16c4__neondot_packed_size(size_t out_ch, size_t in_ch) {
  return QK_DYN_HEAD + qk_dyn_group_bytes(out_ch, in_ch);
}

void qk_dynamic_fc_4x16c4__neondot_pack(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias,
                                        void *packed) {
  int32_t *head = packed;
  memset(head, 0, QK_DYN_HEAD);
  head[0] = bias != NULL;
  qk_dyn_pack_group(d->out_ch, d->in_ch, w, d->w_scale, bias, (char *)packed + QK_DYN_HEAD);
}

size_t qk_dynamic_fc_4x16c4__neondot_workspace_size(const qk_fc_dynamic_desc *d, size_t batch) {
  return meta_bytes(batch) + batch * qk_dyn_kp(d->in_ch);
}

/* mr rows against every block; mr is a constant at each call site. */
static inline __attribute__((always_inline)) void rows(const size_t mr, const qk_fc_dynamic_desc *d,
                                                       const char *blocks, const int8_t *q, const float *s_row,
                                                       const int32_t *offset, float *y) {
  const size_t K = d->in_ch, N = d->out_ch, kp = qk_dyn_kp(K), block = qk_dyn_block_bytes(K);
  const int8_t *a[QK_DYN_MR];
  for (size_t r = 0; r < QK_DYN_MR; r++) a[r] = q + (r < mr ? r : 0) * kp;
  const float32x4_t lo = vdupq_n_f32(d->act_min), hi = vdupq_n_f32(d->act_max);
  for (size_t n0 = 0; n0 < N; n0 += QK_DYN_NR) {
    const char *b = blocks + n0 / QK_DYN_NR * block;
    const float *pb = (const float *)b, *ps = pb + QK_DYN_NR, *prf = ps + QK_DYN_NR;
    int32x4_t acc[QK_DYN_MR][4];
    qk_dyn_dot(mr, a, kp, (const int8_t *)(b + 256), acc);
    const size_t nr = N - n0 < QK_DYN_NR ? N - n0 : QK_DYN_NR;
#pragma GCC unroll 4
    for (size_t r = 0; r < mr; r++) {
      const float32x4_t srow = vdupq_n_f32(s_row[r]), off = vdupq_n_f32((float)offset[r]);
      float32x4_t v[4];
      for (int j = 0; j < 4; j++) {
        int32x4_t dot = acc[r][j];
        /* TFLite subtracts row_sum * offset in float and truncates back to int32. */
        if (d->asymmetric)
          dot = vcvtq_s32_f32(vsubq_f32(vcvtq_f32_s32(dot), vmulq_f32(vld1q_f32(prf + 4 * j), off)));
        const float32x4_t scale = vmulq_f32(srow, vld1q_f32(ps + 4 * j));
        v[j] = qk_f32_clamp(vaddq_f32(vld1q_f32(pb + 4 * j), vmulq_f32(vcvtq_f32_s32(dot), scale)), lo, hi);
      }
      qk_dyn_store(y + r * N + n0, v, nr);
    }
  }
}

void qk_dynamic_fc_4x16c4__neondot_run(const qk_fc_dynamic_desc *d, const void *packed, size_t batch,
                                       const float *x, float *y, void *workspace) {
  const size_t K = d->in_ch, N = d->out_ch, kp = qk_dyn_kp(K);
  float *s_row = workspace;
  int32_t *offset = (int32_t *)(s_row + batch);
  int8_t *q = (int8_t *)workspace + meta_bytes(batch);
  for (size_t b = 0; b < batch; b++) qk_dyn_quantize(x + b * K, K, kp, d->asymmetric, q + b * kp, &s_row[b], &offset[b]);
  const char *blocks = (const char *)packed + QK_DYN_HEAD;
  for (size_t m0 = 0; m0 < batch; m0 += QK_DYN_MR) {
    const int8_t *qm = q + m0 * kp;
    float *ym = y + m0 * N;
    switch (batch - m0 < QK_DYN_MR ? batch - m0 : QK_DYN_MR) {
      case 4: rows(4, d, blocks, qm, s_row + m0, offset + m0, ym); break;
      case 3: rows(3, d, blocks, qm, s_row + m0, offset + m0, ym); break;
      case 2: rows(2, d, blocks, qm, s_row + m0, offset + m0, ym); break;
      default: rows(1, d, blocks, qm, s_row + m0, offset + m0, ym); break;
    }
  }
}
