/* A model table as a wired layer graph: roles (stem, expansion, depthwise, projection, residual
 * add, pooling, classifier), activations, the tensors each layer reads, per-op shape labels, and
 * activation-buffer slots for running it back to back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_model.h"

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

const char *qkb_lkind_name(qkb_lkind k) {
  static const char *const names[QKB_L_COUNT] = {"conv", "pw", "dw", "add", "gap", "fc"};
  return k < QKB_L_COUNT ? names[k] : "?";
}

void qkb_model_free(qkb_model *m) {
  free(m->v);
  memset(m, 0, sizeof *m);
}

static void set_label(qkb_model *m, qkb_layer *L) {
  const char *k = qkb_lkind_name(L->kind);
  switch (L->kind) {
    case QKB_L_CONV: /* as a GEMM: M = output pixels, K = taps x in_c, so 2*M*K*N = 2*MACs */
    case QKB_L_PW:
      snprintf(L->label, sizeof L->label, "%s_%s%02d_M%zu_K%zu_N%zu", m->prefix, k, L->index,
               L->out_h * L->out_w, L->kernel * L->kernel * L->in_c, L->out_c);
      break;
    case QKB_L_DW:
      snprintf(L->label, sizeof L->label, "%s_dw%02d_%zux%zux%zu_k%zus%zu", m->prefix, L->index, L->in_h,
               L->in_w, L->in_c, L->kernel, L->stride);
      break;
    case QKB_L_FC:
      snprintf(L->label, sizeof L->label, "%s_fc%02d_M%zu_K%zu_N%zu", m->prefix, L->index, L->in_h, L->in_c,
               L->out_c);
      break;
    default:
      snprintf(L->label, sizeof L->label, "%s_%s%02d_%zux%zux%zu", m->prefix, k, L->index, L->in_h, L->in_w,
               L->in_c);
      break;
  }
}

static bool same_op_shape(const qkb_layer *a, const qkb_layer *b) {
  return a->kind == b->kind && a->in_h == b->in_h && a->in_w == b->in_w && a->in_c == b->in_c &&
         a->out_c == b->out_c && a->kernel == b->kernel && a->stride == b->stride && a->relu6 == b->relu6;
}

bool qkb_model_load(const char *path, qkb_model *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  qkb_table t;
  if (!qkb_table_read(path, &t, err, errlen)) return false;
  snprintf(m->prefix, sizeof m->prefix, "%s", t.prefix);
  snprintf(m->path, sizeof m->path, "%s", path);
  m->v = calloc(t.n ? t.n : 1, sizeof *m->v);
  if (!m->v) {
    qkb_table_free(&t);
    return fail(err, errlen, "%s: out of memory", path);
  }
  bool ok = t.n > 0 || fail(err, errlen, "%s: no layers", path);
  int prev = -1, block_in = -1;
  size_t ph = 0, pw = 0, pc = 0; /* shape of the previous layer's output */
  for (size_t i = 0; ok && i < t.n; i++) {
    const qkb_table_row *r = &t.rows[i];
    qkb_layer *L = &m->v[i];
    L->index = (int)i;
    L->in_h = r->in_h, L->in_w = r->in_w, L->in_c = r->in_c, L->out_c = r->out_c;
    L->kernel = r->kernel, L->stride = r->stride, L->macs = r->macs;
    L->in = prev;
    L->in2 = -1;
    if (i == 0) {
      m->in_h = r->in_h, m->in_w = r->in_w, m->in_c = r->in_c;
    } else if (r->in_h != ph || r->in_w != pw || r->in_c != pc) {
      ok = fail(err, errlen, "%s:%ld: input %zux%zux%zu does not match the previous layer's output %zux%zux%zu",
                path, r->line, r->in_h, r->in_w, r->in_c, ph, pw, pc);
      break;
    }
    const qkb_layer *P = i > 0 ? &m->v[i - 1] : NULL;
    if (!strcmp(r->kind, "conv")) {
      L->kind = r->kernel == 1 && r->stride == 1 ? QKB_L_PW : QKB_L_CONV;
      L->relu6 = !(L->kind == QKB_L_PW && P && P->kind == QKB_L_DW); /* a projection is linear */
      if (L->kind == QKB_L_PW && L->relu6) block_in = prev; /* an expansion: its input starts a block */
    } else if (!strcmp(r->kind, "dw")) {
      L->kind = QKB_L_DW;
      L->relu6 = true;
      if (!P || !(P->kind == QKB_L_PW && P->relu6)) block_in = prev; /* a block without expansion */
    } else if (!strcmp(r->kind, "add")) {
      L->kind = QKB_L_ADD;
      if (r->in_c != r->out_c) {
        ok = fail(err, errlen, "%s:%ld: an add has in_c == out_c", path, r->line);
        break;
      }
      if (!P || P->kind != QKB_L_PW || P->relu6) {
        ok = fail(err, errlen, "%s:%ld: an add must follow a projection (1x1 conv after a depthwise conv)", path,
                  r->line);
        break;
      }
      const qkb_layer *B = block_in >= 0 ? &m->v[block_in] : NULL;
      const size_t bh = B ? B->out_h : m->in_h, bw = B ? B->out_w : m->in_w, bc = B ? B->out_c : m->in_c;
      if (bh != r->in_h || bw != r->in_w || bc != r->in_c) {
        ok = fail(err, errlen, "%s:%ld: add of %zux%zux%zu: the block's input is %zux%zux%zu", path, r->line,
                  r->in_h, r->in_w, r->in_c, bh, bw, bc);
        break;
      }
      L->in2 = block_in;
    } else if (!strcmp(r->kind, "gap")) {
      L->kind = QKB_L_GAP;
      if (r->in_c != r->out_c) {
        ok = fail(err, errlen, "%s:%ld: a gap has in_c == out_c", path, r->line);
        break;
      }
    } else {
      L->kind = QKB_L_FC;
      if (r->in_h != 1) {
        ok = fail(err, errlen, "%s:%ld: the chain runs batch 1: an fc layer needs in_h 1", path, r->line);
        break;
      }
    }
    switch (L->kind) {
      case QKB_L_CONV:
      case QKB_L_DW:
        L->out_h = (r->in_h + r->stride - 1) / r->stride; /* SAME */
        L->out_w = (r->in_w + r->stride - 1) / r->stride;
        break;
      case QKB_L_GAP:
      case QKB_L_FC:
        L->out_h = L->out_w = 1;
        break;
      default:
        L->out_h = r->in_h, L->out_w = r->in_w;
        break;
    }
    snprintf(L->name, sizeof L->name, "layer%02zu_%s", i, qkb_lkind_name(L->kind));
    set_label(m, L);
    m->macs += L->macs;
    const size_t bytes = L->out_h * L->out_w * L->out_c;
    if (bytes > m->max_tensor) m->max_tensor = bytes;
    prev = (int)i;
    ph = L->out_h, pw = L->out_w, pc = L->out_c;
  }
  if (ok && t.n && m->v[t.n - 1].kind != QKB_L_FC)
    ok = fail(err, errlen, "%s: the chain must end in an fc layer (the logits)", path);
  if (ok && m->v[0].kind != QKB_L_CONV && m->v[0].kind != QKB_L_PW)
    ok = fail(err, errlen, "%s: the chain must start with a conv layer", path);
  const size_t nrows = t.n;
  qkb_table_free(&t);
  if (!ok) {
    qkb_model_free(m);
    return false;
  }
  m->n = nrows;
  if (m->in_h * m->in_w * m->in_c > m->max_tensor) m->max_tensor = m->in_h * m->in_w * m->in_c;
  /* Per-op labels: layers of one op and shape share the first one's label. */
  for (size_t i = 0; i < m->n; i++) {
    qkb_layer *L = &m->v[i];
    L->first = (int)i;
    for (size_t j = 0; j < i; j++)
      if (m->v[j].first == (int)j && same_op_shape(&m->v[j], L)) {
        L->first = (int)j;
        break;
      }
    qkb_layer *F = &m->v[L->first];
    if (F != L) memcpy(L->label, F->label, sizeof L->label);
    F->count++;
    const size_t len = strlen(F->layers);
    if (len + 8 < sizeof F->layers) snprintf(F->layers + len, sizeof F->layers - len, len ? " %zu" : "%zu", i);
  }
  snprintf(m->input_label, sizeof m->input_label, "%s_input_%zux%zux%zu", m->prefix, m->in_h, m->in_w, m->in_c);
  snprintf(m->logits_label, sizeof m->logits_label, "%s_logits_%zu", m->prefix, m->v[m->n - 1].out_c);
  return true;
}

size_t qkb_model_slots(const qkb_model *m, int *slot_of) {
  /* last[t + 1]: the last layer reading tensor t (-1: none). Slot 0 keeps the network input. */
  int *last = malloc((m->n + 1) * sizeof *last);
  int *holder = malloc((m->n + 1) * sizeof *holder); /* slot -> tensor id + 1, -1 = free */
  if (!last || !holder) {
    free(last);
    free(holder);
    return 0;
  }
  for (size_t t = 0; t <= m->n; t++) last[t] = -1;
  for (size_t i = 0; i < m->n; i++) {
    last[m->v[i].in + 1] = (int)i;
    if (m->v[i].kind == QKB_L_ADD) last[m->v[i].in2 + 1] = (int)i;
  }
  size_t nslots = 1;
  holder[0] = 0;
  slot_of[0] = 0;
  for (size_t i = 0; i < m->n; i++) {
    int s = -1;
    for (size_t k = 1; k < nslots && s < 0; k++)
      if (holder[k] < 0 || last[holder[k]] < (int)i) s = (int)k; /* nobody reads it from layer i on */
    if (s < 0) s = (int)nslots++;
    holder[s] = (int)i + 1;
    slot_of[i + 1] = s;
  }
  free(last);
  free(holder);
  return nslots;
}
