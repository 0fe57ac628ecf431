/* Shared plumbing of the per-op and chain benchmark families: case storage, row registration,
 * skipped rows, the shared output arena and the rotation count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_build.h"
#include "qkb_model.h"

typedef struct case_node {
  struct case_node *next;
  void *data;
} case_node;

static case_node *cases;

void *qkb_case_alloc(size_t size) {
  case_node *n = calloc(1, sizeof *n);
  if (!n || !(n->data = calloc(1, size ? size : 1))) {
    free(n);
    return NULL;
  }
  n->next = cases;
  cases = n;
  return n->data;
}

void *qkb_case_aligned(size_t size) {
  case_node *n = calloc(1, sizeof *n);
  if (!n || posix_memalign(&n->data, 64, size ? size : 64) != 0) {
    free(n);
    return NULL;
  }
  memset(n->data, 0, size);
  n->next = cases;
  cases = n;
  return n->data;
}

void qkb_cases_free(void) {
  while (cases) {
    case_node *n = cases->next;
    free(cases->data);
    free(cases);
    cases = n;
  }
}

static size_t registered;

size_t qkb_registered_count(void) { return registered; }

bool qkb_register_row(const qkb_reg *r, const char *name, qkb_fn fn, void *user, double min_time) {
  registered++;
  qkb_options o = {.unit = QKB_UNIT_US, .use_real_time = r->real_time, .min_time = min_time};
  if (!qkb_register(name, fn, user, &o)) {
    fprintf(stderr, "qkbench bench: cannot register %s\n", name);
    return false;
  }
  return true;
}

static void bm_skip(qkb_state *st, void *user) { qkb_skip_with_error(st, (const char *)user); }

bool qkb_register_skip(const char *name, const char *why) {
  const size_t len = strlen(why);
  char *msg = qkb_case_alloc(len + 1);
  if (!msg) return false;
  memcpy(msg, why, len + 1);
  registered++;
  qkb_options o = {.unit = QKB_UNIT_US, .repetitions = 1}; /* one error row, not one per repetition */
  if (!qkb_register(name, bm_skip, msg, &o)) {
    fprintf(stderr, "qkbench bench: cannot register %s\n", name);
    return false;
  }
  return true;
}

const char *qkb_variant_skip(const qk_variant *v, char *buf, size_t n) {
  const char *why = qk_variant_unavailable(v);
  if (!why) return NULL;
  snprintf(buf, n, "skipped: %s (%s)", why, qk_isa_name(v->isa));
  return buf;
}

bool qkb_register_variants(const qkb_reg *r, qk_op op, const char *family, const char *label, qkb_fn fn,
                           int layer) {
  char name[256], why[512];
  for (size_t vi = 0; vi < qk_variant_count(); vi++) {
    const qk_variant *v = qk_variant_at(vi);
    if (v->op != op || v->path != QK_PATH_INT8) continue;
    snprintf(name, sizeof name, "%s/%s/%s", family, v->name, label);
    if (qkb_variant_skip(v, why, sizeof why)) {
      if (!qkb_register_skip(name, why)) return false;
      continue;
    }
    qkb_simple_case *c = qkb_case_alloc(sizeof *c);
    if (!c) return false;
    *c = (qkb_simple_case){.v = v, .layer = layer};
    if (!qkb_register_row(r, name, fn, c, 0)) return false;
  }
  return true;
}

static void *scratch;
static size_t scratch_size;

bool qkb_scratch_reserve(size_t bytes) {
  if (bytes <= scratch_size) return true;
  if (scratch) return false; /* never moved: XNNPACK operators hold its address */
  const size_t want = (bytes + 64 + 4095) / 4096 * 4096;
  if (posix_memalign(&scratch, 64, want) != 0) {
    scratch = NULL;
    return false;
  }
  memset(scratch, 0, want);
  scratch_size = want - 64;
  return true;
}

void *qkb_scratch(void) { return scratch; }

size_t qkb_copies_bytes(size_t per_copy) {
  if (qkb_rot_cfg.hot || !per_copy) return 1;
  size_t c = (qkb_rot_cfg.target_bytes + per_copy - 1) / per_copy;
  if (c > qkb_rot_cfg.max_copies) c = qkb_rot_cfg.max_copies;
  return c ? c : 1;
}

void qkb_cold_label(size_t count, size_t bytes, char *out, size_t n) {
  const double per = count ? (double)bytes / (double)count : 0.0;
  if (count <= 1)
    snprintf(out, n, "hot");
  else if (per >= 1048576.0)
    snprintf(out, n, "cold:%zux%.1fMiB", count, per / 1048576.0);
  else
    snprintf(out, n, "cold:%zux%.1fKiB", count, per / 1024.0);
}

void qkb_rate_counters(qkb_state *st, double ops, double bytes) {
  qkb_counter(st, "ops_per_second", ops, QKB_COUNTER_ITERATION_INVARIANT_RATE);
  qkb_counter(st, "bytes_per_second", bytes, QKB_COUNTER_ITERATION_INVARIANT_RATE | QKB_COUNTER_BASE_1024);
  qkb_counter(st, "ops", ops, QKB_COUNTER_DEFAULT);
}

const char *qkb_xnn_peer_name(qkb_lkind k) {
  switch (k) {
    case QKB_L_CONV: return "xnnpack_qc8_conv";
    case QKB_L_PW: return "xnnpack_qc8_conv1x1";
    case QKB_L_DW: return "xnnpack_qc8_dwconv";
    case QKB_L_ADD: return "xnnpack_qs8_add";
    case QKB_L_GAP: return "xnnpack_qs8_gap";
    case QKB_L_FC: return "xnnpack_qs8_fc";
    case QKB_L_COUNT: break;
  }
  return "?";
}

size_t qkb_xnn_layer_overhead(const qkb_layer *L) {
  if (L->kind != QKB_L_CONV && L->kind != QKB_L_DW) return 0;
  return L->out_h * L->out_w * L->kernel * L->kernel * sizeof(void *); /* indirection buffer */
}

#if QKB_HAVE_XNNPACK
static void release_ops(qkb_rotation *r) {
  for (size_t i = 0; i < r->count; i++) qkb_peer_destroy(r->items[i]);
}
#endif

void qkb_bm_peer(qkb_state *st, void *user) {
#if QKB_HAVE_XNNPACK
  qkb_peer_case *c = user;
  char err[512];
  const qkb_net *net = qkb_net_get(err, sizeof err);
  if (!net) {
    qkb_skip_with_error(st, err);
    return;
  }
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    r = qkb_rotation_begin(c, c->count, err, sizeof err);
    bool ok = r != NULL;
    if (ok) r->release = release_ops;
    for (size_t i = 0; ok && i < c->count; i++) ok = (r->items[i] = c->make(net, c, err, sizeof err)) != NULL;
    if (!ok) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
    r->bytes = c->count * c->copy_bytes;
  }
  const size_t n = r->count;
  void *const *items = r->items;
  size_t i = r->next;
  while (qkb_keep_running(st)) {
    if (!qkb_peer_run(items[i], err, sizeof err)) {
      qkb_skip_with_error(st, err);
      break;
    }
    if (++i == n) i = 0;
  }
  r->next = i;
  if (qkb_error_occurred(st)) return;
  qkb_rate_counters(st, c->ops, c->bytes);
  char label[64];
  qkb_cold_label(r->count, r->bytes, label, sizeof label);
  qkb_set_label(st, label);
#else
  (void)user;
  qkb_skip_with_error(st, "skipped: not built (XNNPACK not found at configure time)");
#endif
}

bool qkb_register_peer(const qkb_reg *r, const char *name, qkb_peer_case *c) {
  if (!r->want_xnn) return true;
  if (r->peer_off[0]) return qkb_register_skip(name, r->peer_off);
  return qkb_register_row(r, name, qkb_bm_peer, c, 0);
}
