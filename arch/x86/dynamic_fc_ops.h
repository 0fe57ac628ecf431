/* The dynamic-range FC operation over an ISA's GEMM engine (<isa>/dynamic_gemm.h, included
 * first, with QK_NAME defined): each float row is quantized into the workspace, then one GEMM with
 * TFLite's EvalHybrid epilogue y = bias + float(dot) * (s_row * s_w). Bit-exact with
 * qk_ref_fc_dynamic.
 *
 * Workspace: float s_row[batch] | float offset[batch] (64-byte rounded) | quantized rows of
 * round_up(K, 64) elements. The rows stay whole, so the GEMM needs no K chunking; its 12-row
 * panels (15 KiB of u8 at K = 1280) stay in L1 while the weights stream past. */
#ifndef QK_X86_DYNAMIC_FC_OPS_H
#define QK_X86_DYNAMIC_FC_OPS_H

QKD_DEFINE_GEMM

size_t QK_NAME(_packed_size)(size_t n, size_t k) { return qkd_packed_bytes(n, k); }

void QK_NAME(_pack)(const qk_fc_dynamic_desc *d, const int8_t *w, const float *bias, void *packed) {
  /* The reference adds 0.0f when there is no bias. */
  qkd_pack(d->out_ch, d->in_ch, w, d->in_ch, d->w_scale, bias, 0.0f, packed);
}

static size_t params_bytes(size_t batch) { return qk_round_up(2 * batch * sizeof(float), 64); }

size_t QK_NAME(_workspace_size)(const qk_fc_dynamic_desc *d, size_t batch) {
  return params_bytes(batch) + batch * qk_round_up(d->in_ch, 64) * sizeof(qkd_elem);
}

void QK_NAME(_run)(const qk_fc_dynamic_desc *d, const void *packed, size_t batch, const float *x, float *y,
                   void *workspace) {
  const size_t K = d->in_ch, N = d->out_ch, lda = qk_round_up(K, 64);
  float *s_row = workspace, *off_f = s_row + batch;
  qkd_elem *rows = (qkd_elem *)(void *)((char *)workspace + params_bytes(batch));
  for (size_t b = 0; b < batch; b++) {
    const qkd_qparams p = qkd_quantize(x + b * K, K, d->asymmetric, rows + b * lda);
    s_row[b] = p.scale;
    off_f[b] = p.offset_f;
  }
  /* Padding past K meets zero weights: no pad value to compensate for. */
  const qkd_tile t = {
      .a = rows, .lda = lda, .groups = qk_round_up(K, QKD_KR) / QKD_KR, .blk = packed, .c_init = qkd_c_init(0),
      .mode = d->asymmetric ? QKD_EPI_FC_ASYM : QKD_EPI_FC, .s_row = s_row, .off_f = off_f,
      .lo = d->act_min, .hi = d->act_max, .y = y, .ldy = N,
  };
  qkd_gemm(t, batch, N, K);
}

#endif
