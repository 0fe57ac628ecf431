/* `qkbench bench`: every registered int8 variant and the XNNPACK peers on every shape of the model
 * table, and the whole network back to back per ISA cap, on Google Benchmark through the C shim.
 * Options are ours; any --benchmark_* flag passes through (after our defaults, so the user's value
 * wins). */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpuinfo.h>

#include "bench.h"
#include "gbench.h"
#include "qk/qk.h"
#include "qkb_build.h"
#include "qkb_gitrev.h"
#include "qkb_internal.h"
#include "qkb_model.h"

#define DEFAULT_SEED 20240229u
#define DEFAULT_REPETITIONS "5"
#define QUICK_REPETITIONS "4" /* the smallest count whose U test can reach p < 0.05 (compare.py) */
#define QUICK_MIN_TIME "0.05"
#define DEFAULT_LAYER_MIN_TIME 0.05 /* seconds, per-layer chain rows */

static void usage(FILE *f) {
  fprintf(f,
"usage: qkbench bench [options] [--benchmark_<flag>=<value>...]\n"
"\n"
"Times every registered int8 variant (and the XNNPACK peers, when built) on the model table's\n"
"layers, each distinct shape once, and the whole network back to back. Variants this CPU cannot\n"
"run (or above QK_ISA) are listed as skipped rows with the reason. Benchmark names\n"
"(<op>_int8/<variant|peer>/<shape>, select with --filter REGEX):\n"
"  fc_int8/...          FC variants on each stride-1 1x1 conv as a GEMM (M = H*W, K = in_c,\n"
"                       N = out_c), the fc layers, and fc M=256 K=1024 N=1024\n"
"  conv2d_int8/...      CONV2D variants (reference, im2col+GEMM per ISA) on the stem conv and\n"
"                       the 1x1 convs; peer xnnpack_qc8_conv / xnnpack_qc8_conv1x1\n"
"  dwconv2d_int8/...    DWCONV2D variants on the depthwise layers; peer xnnpack_qc8_dwconv\n"
"  add_int8/...         ADD variants on the residual adds; peer xnnpack_qs8_add\n"
"  avgpool_int8/...     AVGPOOL variants on the global average pool; peer xnnpack_qs8_gap\n"
"  quantize_int8/...    QUANTIZE variants on the float input; peer xnnpack_f32_qs8\n"
"  dequantize_int8/...  DEQUANTIZE variants on the logits; peer xnnpack_qs8_f32\n"
"  {fc,conv2d,dwconv2d,add,quantize,dequantize}_i16x8/..., addpot_i16x8/...  every I16X8\n"
"                       variant on the same layers (16x8 network of chain_i16x8), exact-checked\n"
"  {fc,conv2d}_{f32,f16w,dynamic}/..., dwconv2d_{f32,f16w}/..., add_f32/..., avgpool_f32/...\n"
"                       every float variant on the same layers; peers xnnpack_f32_* (f32\n"
"                       families) and xnnpack_f16_* (f16w families; add, gap: f32 families)\n"
"  chain_int8/<cap>/total          every layer back to back through the qk_*_create/run entry\n"
"                       points with the ISA cap <cap> (each ISA built; skipped rows for those\n"
"                       the CPU lacks or above QK_ISA), checked against the reference first\n"
"  chain_int8/<cap>/layerNN_<kind> one layer of that chain alone (kind: conv pw dw add gap fc;\n"
"                       Google Benchmark appends /min_time:<s> to these names)\n"
"  chain_int8/xnnpack/...          the same network as XNNPACK operators\n"
"  chain_i16x8/<cap>/total         the network on the 16x8 path (int16 activations, int8 weights,\n"
"                       int64 bias; gap as a plain C reduction), exact against the 16x8 reference\n"
"  chain_f32/<cap>/total, chain_f16w/<cap>/total, chain_dynamic/<cap>/total  the network in\n"
"                       float: f32 weights, binary16 weights, int8 weights on the dynamic FC and\n"
"                       convs incl. depthwise (add, pool in f32); logits compared with qk_ref_*\n"
"  chain_f32/xnnpack/total         the f32 network as XNNPACK f32 operators\n"
"  e.g. --filter chain  |  --filter 'chain_int8/.*/total'  |  --filter '^(dw)?conv2d_int8/'\n"
"The per-op and chain rows run a synthetic network over the table (weights from --seed, scales\n"
"calibrated on its own activations, built on first use) and need a full model table (conv ... fc).\n"
"\n"
"options:\n"
"  --shapes FILE     model layer table (default: $QKBENCH_SHAPES, else\n"
"                    %s\n"
"                    or %s)\n"
"  --all-layers      time every table layer, even identical GEMMs (default: time each distinct\n"
"                    GEMM once; the JSON context records how many layers share it)\n"
"  --filter REGEX    only benchmarks whose name matches (= --benchmark_filter=REGEX)\n"
"  --out FILE        JSON results file (default: results/<machine>/<UTC timestamp>.json)\n"
"  --no-out          no JSON file, console only\n"
"  --machine         print the <machine> directory name used for results and exit\n"
"  --hot             one copy of the packed weights (cache-warm); default: rotate copies\n"
"  --rotate-mib N    cold mode: rotate weight copies totalling at least N MiB (default:\n"
"                    max(64, 2 x the L2+L3 cpuinfo reports), at most 1024)\n"
"  --max-copies N    cold mode: at most N copies per benchmark (default 4096)\n"
"  --seed N          data and weight seed (default %u)\n"
"  --quick           %s repetitions, --benchmark_min_time=%s (overridable)\n"
"  --real-time       time by wall clock (default: process CPU time)\n"
"  --no-xnnpack      leave out the XNNPACK peers\n"
"  --no-chain-layers chain rows: totals only, no per-layer rows\n"
"  --layer-min-time S  min time of each per-layer chain row and each 16x8 / float per-op\n"
"                    row (default %.2f s; a --benchmark_min_time you give applies to them too)\n"
"  --list            list the benchmark names and exit\n"
"  -h, --help        this text\n"
"\n"
"defaults passed to Google Benchmark (give your own flag to override):\n"
"  --benchmark_repetitions=%s --benchmark_enable_random_interleaving=true\n"
"  --benchmark_display_aggregates_only=true (the JSON keeps every repetition for compare.py)\n"
"  --benchmark_out=<--out> --benchmark_out_format=json\n"
"useful Google Benchmark flags: --benchmark_min_time=<seconds> --benchmark_repetitions=<n>\n"
"  --benchmark_min_warmup_time=<seconds> --benchmark_format=<console|json|csv>\n"
"  --benchmark_context=<key>=<value> --benchmark_perf_counters=<events>\n"
"\n"
"environment: QK_ISA=<isa> caps the variants that run (the rest are skipped rows);\n"
"  QKBENCH_SHAPES=<file> default shape table.\n"
"Pin to one core for stable numbers: taskset -c 1 qkbench bench (scripts/bench.sh does).\n",
          QKB_SHAPES_SOURCE, QKB_SHAPES_INSTALLED, DEFAULT_SEED, QUICK_REPETITIONS, QUICK_MIN_TIME,
          DEFAULT_LAYER_MIN_TIME, DEFAULT_REPETITIONS);
}

const char *qkb_peer_name(qkb_peer p) {
  switch (p) {
    case QKB_PEER_XNN_QS8_FC: return "xnnpack_qs8_fc";
    case QKB_PEER_XNN_QC8_CONV1X1: return "xnnpack_qc8_conv1x1";
    case QKB_PEER_COUNT: break;
  }
  return "?";
}

/* ---- one benchmark case ------------------------------------------------------------------------ */

typedef enum { CASE_VARIANT, CASE_PEER, CASE_SKIP } case_kind;

typedef struct bench_case {
  case_kind kind;
  const qk_variant *variant;
  int peer; /* qkb_peer */
  qkb_workload *wl;
  char name[192];
  char skip[600];
} bench_case;

static void report(qkb_state *st, const bench_case *c, const qkb_rotation *r) {
  const qkb_shape *s = c->wl->shape;
  const double M = (double)s->m, K = (double)s->k, N = (double)s->n;
  qkb_counter(st, "ops_per_second", 2.0 * M * N * K, QKB_COUNTER_ITERATION_INVARIANT_RATE);
  qkb_counter(st, "bytes_per_second", K * N + M * K + M * N,
              QKB_COUNTER_ITERATION_INVARIANT_RATE | QKB_COUNTER_BASE_1024);
  qkb_counter(st, "clamped", qkb_clamped_fraction(c->wl), QKB_COUNTER_DEFAULT);
  char label[96];
  const double per = (double)r->bytes / (double)r->count;
  if (r->count == 1)
    snprintf(label, sizeof label, "hot");
  else if (per >= 1048576.0)
    snprintf(label, sizeof label, "cold:%zux%.1fMiB", r->count, per / 1048576.0);
  else
    snprintf(label, sizeof label, "cold:%zux%.1fKiB", r->count, per / 1024.0);
  qkb_set_label(st, label);
}

static void bm_variant(qkb_state *st, void *user) {
  bench_case *c = user;
  char err[256];
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    r = qkb_rotation_begin(c, qkb_copies_for(c->wl->shape), err, sizeof err);
    if (!r || !qkb_pack_variant_copies(c->variant, c->wl, r, err, sizeof err)) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
  }
  const qk_fc_int8_impl *impl = c->variant->impl;
  const qk_fc_int8_desc *d = &c->wl->desc;
  const size_t m = c->wl->shape->m, n = r->count;
  const int8_t *x = c->wl->x;
  int8_t *y = c->wl->y;
  void *const *items = r->items;
  size_t i = r->next;
  while (qkb_keep_running(st)) {
    impl->run(d, items[i], m, x, y);
    if (++i == n) i = 0;
  }
  r->next = i;
  report(st, c, r);
}

#if QKB_HAVE_XNNPACK
static void release_peers(qkb_rotation *r) {
  for (size_t i = 0; i < r->count; i++) qkb_peer_destroy(r->items[i]);
}

static void bm_peer(qkb_state *st, void *user) {
  bench_case *c = user;
  char err[256];
  qkb_rotation *r = qkb_rotation_current(c);
  if (!r) {
    const size_t count = qkb_copies_for(c->wl->shape);
    r = qkb_rotation_begin(c, count, err, sizeof err);
    bool ok = r != NULL;
    if (ok) r->release = release_peers;
    for (size_t i = 0; ok && i < count; i++) {
      r->items[i] = qkb_peer_create((qkb_peer)c->peer, c->wl, err, sizeof err);
      ok = r->items[i] != NULL;
    }
    if (!ok) {
      qkb_rotation_abort();
      qkb_skip_with_error(st, err);
      return;
    }
    r->bytes = count * (c->wl->shape->k * c->wl->shape->n + 12 * c->wl->shape->n);
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
  if (!qkb_error_occurred(st)) report(st, c, r);
}
#endif

static void bm_skip(qkb_state *st, void *user) {
  const bench_case *c = user;
  qkb_skip_with_error(st, c->skip);
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static bool parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
  if (!s || !*s || *s == '-') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  *out = (size_t)v;
  return true;
}

/* "AMD Ryzen 9 9950X" -> "amd-ryzen-9-9950x". */
static void machine_name(char *out, size_t n) {
  const char *src = qk_cpu_name();
  size_t j = 0;
  bool dash = false;
  for (const char *p = src; *p && j + 1 < n; p++) {
    const unsigned char ch = (unsigned char)*p;
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      if (dash && j) out[j++] = '-';
      if (j + 1 < n) out[j++] = (char)ch;
      dash = false;
    } else if (ch >= 'A' && ch <= 'Z') {
      if (dash && j) out[j++] = '-';
      if (j + 1 < n) out[j++] = (char)(ch - 'A' + 'a');
      dash = false;
    } else {
      dash = true;
    }
  }
  out[j] = 0;
  if (!j || !strcmp(out, "unknown")) snprintf(out, n, "unknown-cpu");
}

static bool mkdirs_for(const char *file) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", file) >= (int)sizeof buf) return false;
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "qkbench bench: cannot create directory %s: %s\n", buf, strerror(errno));
      return false;
    }
    *p = '/';
  }
  return true;
}

static void pinned_cpus(char *out, size_t n) {
  cpu_set_t set;
  out[0] = 0;
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    snprintf(out, n, "unknown");
    return;
  }
  size_t len = 0;
  for (int c = 0; c < CPU_SETSIZE && len + 16 < n; c++) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) e++;
    len += (size_t)snprintf(out + len, n - len, len ? ",%d" : "%d", c);
    if (e > c) len += (size_t)snprintf(out + len, n - len, "-%d", e);
    c = e;
  }
  snprintf(out + len, n - len, " (%d of %ld online)", CPU_COUNT(&set), sysconf(_SC_NPROCESSORS_ONLN));
}

/* A growable string for context values. */
typedef struct strbuf {
  char *p;
  size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) return;
  if (b->len + (size_t)need + 1 > b->cap) {
    size_t cap = (b->len + (size_t)need + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) return;
    b->p = p;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)need;
}

static const char *sb_str(const strbuf *b) { return b->p ? b->p : ""; }

/* max(64 MiB, 2 x (L2 + L3) as cpuinfo reports them), at most 1 GiB: larger than the caches, so
 * cycling through the copies evicts each before its next use. */
static size_t default_rotate_bytes(void) {
  unsigned long long caches = 0;
  if (cpuinfo_initialize()) {
    const struct cpuinfo_cache *l2 = cpuinfo_get_l2_cache(0), *l3 = cpuinfo_get_l3_cache(0);
    if (l2) caches += (unsigned long long)l2->size;
    if (l3) caches += (unsigned long long)l3->size;
  }
  unsigned long long want = 2 * caches;
  if (want < (64ull << 20)) want = 64ull << 20;
  if (want > (1024ull << 20)) want = 1024ull << 20;
  return (size_t)want;
}

static const char *has_prefix_arg(int n, char **v, const char *prefix) {
  const char *found = NULL;
  for (int i = 0; i < n; i++)
    if (!strncmp(v[i], prefix, strlen(prefix))) found = v[i];
  return found;
}

/* ---- main -------------------------------------------------------------------------------------- */

int qkb_bench_main(int argc, char **argv) {
  const char *shapes_path = NULL, *out_path = NULL, *filter = NULL;
  bool no_out = false, hot = false, quick = false, real_time = false, list = false, all_layers = false;
  bool want_xnn = true, print_machine = false, chain_layers = true;
  double layer_min_time = -1;
  size_t rotate_mib = 0, max_copies = 4096, seed = DEFAULT_SEED;
  char **pass = calloc((size_t)argc + 1, sizeof *pass);
  int npass = 0;
  if (!pass) return 1;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    /* --opt VALUE or --opt=VALUE */
#define OPTVAL(name)                                                                          \
  ((!strcmp(a, name) && i + 1 < argc && (val = argv[++i])) ||                                 \
   (!strncmp(a, name "=", sizeof name) && (val = a + sizeof name)))
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      free(pass);
      return 0;
    } else if (!strncmp(a, "--benchmark_", 12)) {
      pass[npass++] = argv[i];
    } else if (OPTVAL("--shapes")) {
      shapes_path = val;
    } else if (OPTVAL("--filter")) {
      filter = val;
    } else if (OPTVAL("--out")) {
      out_path = val;
    } else if (OPTVAL("--rotate-mib")) {
      if (!parse_size(val, 1, (size_t)1 << 20, &rotate_mib)) {
        fprintf(stderr, "qkbench bench: --rotate-mib wants an integer in [1, 1048576], got '%s'\n", val);
        free(pass);
        return 2;
      }
    } else if (OPTVAL("--max-copies")) {
      if (!parse_size(val, 1, (size_t)1 << 24, &max_copies)) {
        fprintf(stderr, "qkbench bench: --max-copies wants an integer in [1, 16777216], got '%s'\n", val);
        free(pass);
        return 2;
      }
    } else if (OPTVAL("--seed")) {
      if (!parse_size(val, 0, SIZE_MAX, &seed)) {
        fprintf(stderr, "qkbench bench: --seed wants a non-negative integer, got '%s'\n", val);
        free(pass);
        return 2;
      }
    } else if (OPTVAL("--layer-min-time")) {
      char *end;
      errno = 0;
      layer_min_time = strtod(val, &end);
      if (errno || *end || !(layer_min_time > 0) || layer_min_time > 3600) {
        fprintf(stderr, "qkbench bench: --layer-min-time wants seconds in (0, 3600], got '%s'\n", val);
        free(pass);
        return 2;
      }
    } else if (!strcmp(a, "--no-chain-layers")) {
      chain_layers = false;
    } else if (!strcmp(a, "--no-out")) {
      no_out = true;
    } else if (!strcmp(a, "--machine")) {
      print_machine = true;
    } else if (!strcmp(a, "--hot")) {
      hot = true;
    } else if (!strcmp(a, "--quick")) {
      quick = true;
    } else if (!strcmp(a, "--real-time")) {
      real_time = true;
    } else if (!strcmp(a, "--no-xnnpack")) {
      want_xnn = false;
    } else if (!strcmp(a, "--all-layers")) {
      all_layers = true;
    } else if (!strcmp(a, "--list")) {
      list = true;
    } else {
      fprintf(stderr, "qkbench bench: unknown or incomplete option '%s' (see qkbench bench --help)\n", a);
      free(pass);
      return 2;
    }
#undef OPTVAL
  }

  char machine[96];
  machine_name(machine, sizeof machine);
  if (print_machine) {
    printf("%s\n", machine);
    free(pass);
    return 0;
  }
  if (qk_isa_cap() == QK_ISA_COUNT) {
    fprintf(stderr, "qkbench bench: QK_ISA=%s is not an ISA name (see qkbench info)\n", getenv("QK_ISA"));
    free(pass);
    return 2;
  }

  /* Weight rotation builds and frees hundreds of MiB per benchmark; keep freed memory in the heap
   * (no trimming, large blocks from the heap) so rebuilding does not re-fault every page. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);
  qkb_rot_cfg.hot = hot;
  qkb_rot_cfg.max_copies = max_copies;
  qkb_rot_cfg.target_bytes = rotate_mib ? rotate_mib << 20 : default_rotate_bytes();

  /* Shapes: --shapes, $QKBENCH_SHAPES, the source tree's table, the installed one. */
  if (!shapes_path) shapes_path = getenv("QKBENCH_SHAPES");
  if (!shapes_path || !*shapes_path)
    shapes_path = access(QKB_SHAPES_SOURCE, R_OK) == 0 ? QKB_SHAPES_SOURCE : QKB_SHAPES_INSTALLED;
  qkb_shape_list shapes = {0};
  char err[512];
  if (!qkb_shapes_load(shapes_path, all_layers, &shapes, err, sizeof err) ||
      !qkb_shapes_add_fc(&shapes, 256, 1024, 1024)) {
    fprintf(stderr, "qkbench bench: %s\n", shapes.n ? "out of memory" : err);
    qkb_shapes_free(&shapes);
    free(pass);
    return 2;
  }

  /* The same table as a wired network for the per-op and chain rows; a table that does not chain
   * (e.g. only fc layers) still gets its fc_int8 rows. */
  qkb_model model;
  char model_err[512] = "";
  const bool have_model = qkb_model_load(shapes_path, &model, model_err, sizeof model_err);
  if (!have_model && !list)
    fprintf(stderr, "qkbench bench: no per-op or chain rows: %s\n", model_err);
  if (have_model) qkb_net_configure(&model, (uint64_t)seed);

  int rc = 1;
  qkb_workload **wls = calloc(shapes.n, sizeof *wls);
  const size_t per_shape = qk_variant_count() + QKB_PEER_COUNT;
  bench_case *cases = calloc(shapes.n * per_shape, sizeof *cases);
  size_t ncases = 0;
  strbuf ctx = {0};
  if (!wls || !cases) goto done;
  for (size_t s = 0; s < shapes.n; s++) {
    wls[s] = qkb_workload_create(&shapes.v[s], (uint64_t)seed, err, sizeof err);
    if (!wls[s]) {
      fprintf(stderr, "qkbench bench: %s\n", err);
      goto done;
    }
  }

  /* Peers available? One failure reason for all of them, else per shape below. */
  char peer_off[600] = "";
#if QKB_HAVE_XNNPACK
  if (!want_xnn)
    snprintf(peer_off, sizeof peer_off, "disabled by --no-xnnpack");
  else if (!qkb_peers_init(err, sizeof err))
    snprintf(peer_off, sizeof peer_off, "skipped: %s", err);
#else
  snprintf(peer_off, sizeof peer_off, "skipped: not built (XNNPACK not found at configure time)");
#endif

  /* Registration: shape-major so console rows of one shape sit together without interleaving. */
  for (size_t s = 0; s < shapes.n; s++) {
    for (size_t i = 0; i < qk_variant_count(); i++) {
      const qk_variant *v = qk_variant_at(i);
      if (v->op != QK_OP_FC || v->path != QK_PATH_INT8) continue;
      bench_case *c = &cases[ncases++];
      c->wl = wls[s];
      c->variant = v;
      snprintf(c->name, sizeof c->name, "fc_int8/%s/%s", v->name, shapes.v[s].label);
      const char *why = qk_variant_unavailable(v);
      c->kind = why ? CASE_SKIP : CASE_VARIANT;
      if (why) snprintf(c->skip, sizeof c->skip, "skipped: %s (%s)", why, qk_isa_name(v->isa));
    }
    /* Peers: a peer that is not built, or cannot be created for this shape, is a skipped row
     * with the reason (XNNPACK's error); --no-xnnpack leaves them out. */
    if (!want_xnn) continue;
    for (int p = 0; p < QKB_PEER_COUNT; p++) {
      bench_case *c = &cases[ncases++];
      c->wl = wls[s];
      c->peer = p;
      snprintf(c->name, sizeof c->name, "fc_int8/%s/%s", qkb_peer_name((qkb_peer)p), shapes.v[s].label);
      c->kind = CASE_PEER;
      if (peer_off[0]) {
        c->kind = CASE_SKIP;
        snprintf(c->skip, sizeof c->skip, "%s", peer_off);
        continue;
      }
#if QKB_HAVE_XNNPACK
      void *op = qkb_peer_create((qkb_peer)p, wls[s], err, sizeof err);
      if (!op) {
        c->kind = CASE_SKIP;
        snprintf(c->skip, sizeof c->skip, "skipped: %s", err);
      }
      qkb_peer_destroy(op);
#endif
    }
  }
  for (size_t i = 0; i < ncases; i++) {
    bench_case *c = &cases[i];
    qkb_options o = {.unit = QKB_UNIT_US, .use_real_time = real_time};
    qkb_fn fn = bm_skip;
    if (c->kind == CASE_SKIP)
      o.repetitions = 1; /* one error row, not one per repetition */
    else if (c->kind == CASE_VARIANT)
      fn = bm_variant;
#if QKB_HAVE_XNNPACK
    else
      fn = bm_peer;
#endif
    if (!qkb_register(c->name, fn, c, &o)) {
      fprintf(stderr, "qkbench bench: cannot register %s\n", c->name);
      goto done;
    }
  }
  if (have_model) {
    const qkb_reg reg = {
        .model = &model,
        .peer_off = peer_off,
        .want_xnn = want_xnn,
        .real_time = real_time,
        .chain_layers = chain_layers,
        .layer_min_time = layer_min_time > 0 ? layer_min_time
                          : has_prefix_arg(npass, pass, "--benchmark_min_time=") ? 0
                                                                                   : DEFAULT_LAYER_MIN_TIME,
    };
    if (!qkb_register_conv(&reg, err, sizeof err) || !qkb_register_eltwise(&reg, err, sizeof err) ||
        !qkb_register_pool(&reg, err, sizeof err) || !qkb_register_convert(&reg, err, sizeof err) ||
        !qkb_register_i16x8(&reg, err, sizeof err) || !qkb_register_float(&reg, err, sizeof err) ||
        !qkb_register_chain(&reg, err, sizeof err) || !qkb_register_xnnpack_chain(&reg, err, sizeof err) ||
        !qkb_register_chain_paths(&reg, err, sizeof err) ||
        !qkb_register_xnnpack_chain_f32(&reg, err, sizeof err)) {
      fprintf(stderr, "qkbench bench: %s\n", err);
      goto done;
    }
  }

  /* The clock and memory probes the targets are stated against, timed in the same run. */
  if (!qkb_register_machine(real_time)) {
    fprintf(stderr, "qkbench bench: cannot register the machine probes\n");
    goto done;
  }

  /* Context block (JSON "context", console header). */
  qkb_add_custom_context("qkbench_version", QKB_VERSION);
  qkb_add_custom_context("git_commit", QKB_GIT_COMMIT);
  qkb_add_custom_context("compiler_c", QKB_CC);
  qkb_add_custom_context("compiler_cxx", QKB_CXX);
  qkb_add_custom_context("build_flags", QKB_BUILD_FLAGS);
  qkb_add_custom_context("isa_flags", QKB_ISA_FLAGS);
  qkb_add_custom_context("google_benchmark", QKB_BENCHMARK_VERSION);
  qkb_add_custom_context("qk_cpu", qk_cpu_name());
  qkb_add_custom_context("qk_cpu_features", qk_cpu_features());
  qkb_add_custom_context("qk_machine", machine);
  {
    strbuf b = {0}, sup = {0};
    for (int i = 0; i < QK_ISA_COUNT; i++) {
      if (qk_isa_built((qk_isa)i)) sb_add(&b, "%s%s", b.len ? " " : "", qk_isa_name((qk_isa)i));
      if (qk_isa_supported((qk_isa)i)) sb_add(&sup, "%s%s", sup.len ? " " : "", qk_isa_name((qk_isa)i));
    }
    qkb_add_custom_context("qk_isas_built", sb_str(&b));
    qkb_add_custom_context("qk_isas_supported", sb_str(&sup));
    free(b.p);
    free(sup.p);
  }
  {
    const char *env = getenv("QK_ISA");
    char cap[64];
    if (env && *env)
      snprintf(cap, sizeof cap, "%s (QK_ISA)", qk_isa_name(qk_isa_cap()));
    else
      snprintf(cap, sizeof cap, "none");
    qkb_add_custom_context("qk_isa_cap", cap);
  }
  /* The variant dispatch picks per (op, path) that has registered variants. */
  for (int op = 0; op < QK_OP_COUNT; op++)
    for (int path = 0; path < QK_PATH_COUNT; path++) {
      bool any = false;
      for (size_t i = 0; i < qk_variant_count() && !any; i++)
        any = qk_variant_at(i)->op == (qk_op)op && qk_variant_at(i)->path == (qk_path)path;
      if (!any) continue;
      char key[64];
      snprintf(key, sizeof key, "qk_dispatch_%s_%s", qk_op_name((qk_op)op), qk_path_name((qk_path)path));
      const qk_variant *v = qk_dispatch((qk_op)op, (qk_path)path);
      qkb_add_custom_context(key, v ? v->name : qk_last_error());
    }
  {
    strbuf b = {0};
    for (size_t i = 0; i < qk_variant_count(); i++) {
      const qk_variant *v = qk_variant_at(i);
      const char *why = qk_variant_unavailable(v);
      sb_add(&b, "%s%s=%s", i ? " " : "", v->name, why ? "skipped" : "runnable");
    }
    qkb_add_custom_context("qk_variants", sb_str(&b));
    free(b.p);
  }
  {
    char pin[512];
    pinned_cpus(pin, sizeof pin);
    qkb_add_custom_context("pinned_cpus", pin);
    cpu_set_t set;
    if (!list && sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1)
      fprintf(stderr, "qkbench bench: note: not pinned to one CPU (allowed: %s); for stable numbers run "
                      "under taskset -c 1\n", pin);
  }
  {
    char buf[512];
    snprintf(buf, sizeof buf, "%zu", seed);
    qkb_add_custom_context("qkb_seed", buf);
    if (hot)
      snprintf(buf, sizeof buf, "hot: one copy of the packed weights");
    else
      snprintf(buf, sizeof buf,
               "cold: packed weights rotated over copies totalling >= %zu MiB (at most %zu copies), "
               "activations warm",
               qkb_rot_cfg.target_bytes >> 20, qkb_rot_cfg.max_copies);
    qkb_add_custom_context("qkb_weights", buf);
    qkb_add_custom_context("qkb_timer", real_time ? "real_time" : "cpu_time");
    qkb_add_custom_context("qkb_ops", "ops_per_second counts 2*M*N*K (2*MACs) per iteration; add: one per "
                                      "output element, pooling: one per input element, converts: one per element; "
                                      "the ops counter is the per-iteration count");
    qkb_add_custom_context("qkb_bytes", "bytes_per_second counts weights + inputs + output (int8; float for "
                                        "converts) per iteration");
    if (have_model) {
      qkb_add_custom_context("qkb_chain", qkb_chain_describe());
      qkb_add_custom_context("qkb_chain_paths", qkb_chain_paths_describe());
      snprintf(buf, sizeof buf, "%zu layers, %llu MACs, input %zux%zux%zu, label prefix %s", model.n,
               (unsigned long long)model.macs, model.in_h, model.in_w, model.in_c, model.prefix);
      qkb_add_custom_context("qkb_model", buf);
      snprintf(buf, sizeof buf, "seed %zu: int8 weights symmetric per channel (fc per tensor), scales from a "
               "calibration pass over the network's own activations (0.1%%/99.9%% ranges), ReLU6 after the stem, "
               "expansion and depthwise convs", seed);
      qkb_add_custom_context("qkb_network", buf);
    }
    qkb_add_custom_context("qkb_shapes_file", shapes_path);
    qkb_add_custom_context("qkb_peers", peer_off[0] ? peer_off :
#if QKB_HAVE_XNNPACK
                                                    qkb_peers_describe()
#else
                                                    ""
#endif
    );
  }
  for (size_t s = 0; s < shapes.n; s++) {
    sb_add(&ctx, "%s%s=%u", s ? " " : "", shapes.v[s].label, shapes.v[s].count);
  }
  /* Per-op labels not already listed (the pointwise ones are the fc_int8 GEMM labels). */
  for (size_t i = 0; have_model && i < model.n; i++) {
    const qkb_layer *L = &model.v[i];
    if (L->first != (int)i) continue;
    bool dup = false;
    for (size_t s = 0; s < shapes.n && !dup; s++) dup = !strcmp(shapes.v[s].label, L->label);
    if (!dup) sb_add(&ctx, " %s=%u", L->label, L->count);
  }
  qkb_add_custom_context("qkb_shape_counts", sb_str(&ctx));
  ctx.len = 0;
  for (size_t s = 0; s < shapes.n; s++)
    if (shapes.v[s].layer >= 0) sb_add(&ctx, "%s%s=%s", ctx.len ? "; " : "", shapes.v[s].label, shapes.v[s].layers);
  for (size_t i = 0; have_model && i < model.n; i++) {
    const qkb_layer *L = &model.v[i];
    bool dup = false;
    for (size_t s = 0; s < shapes.n && !dup; s++) dup = !strcmp(shapes.v[s].label, L->label);
    if (L->first == (int)i && !dup) sb_add(&ctx, "; %s=%s", L->label, L->layers);
  }
  qkb_add_custom_context("qkb_shape_layers", sb_str(&ctx));

  /* Google Benchmark's argv: our defaults first, then the user's flags (later flags win). */
  {
    static char a_reps[64], a_filter[4096], a_out[4200], a_min[64];
    char *gb[32 + 4096];
    int ng = 0;
    /* argv[0] becomes the JSON context's "executable". */
    static char exe[4096];
    const ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el > 0) exe[el] = 0; else snprintf(exe, sizeof exe, "qkbench");
    gb[ng++] = exe;
    snprintf(a_reps, sizeof a_reps, "--benchmark_repetitions=%s", quick ? QUICK_REPETITIONS : DEFAULT_REPETITIONS);
    gb[ng++] = a_reps;
    gb[ng++] = "--benchmark_enable_random_interleaving=true";
    gb[ng++] = "--benchmark_display_aggregates_only=true";
    if (quick) {
      snprintf(a_min, sizeof a_min, "--benchmark_min_time=%s", QUICK_MIN_TIME);
      gb[ng++] = a_min;
    }
    if (filter) {
      if (snprintf(a_filter, sizeof a_filter, "--benchmark_filter=%s", filter) >= (int)sizeof a_filter) {
        fprintf(stderr, "qkbench bench: --filter is too long\n");
        goto done;
      }
      gb[ng++] = a_filter;
    }
    const bool listing = list || has_prefix_arg(npass, pass, "--benchmark_list_tests");
    if (list) gb[ng++] = "--benchmark_list_tests=true";
    const char *user_out = has_prefix_arg(npass, pass, "--benchmark_out=");
    if (user_out) {
      if (!mkdirs_for(user_out + strlen("--benchmark_out="))) goto done;
    } else if (!no_out && !listing) {
      char stamp[32];
      const time_t now = time(NULL);
      struct tm tm;
      gmtime_r(&now, &tm);
      strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
      if (out_path)
        snprintf(a_out, sizeof a_out, "--benchmark_out=%s", out_path);
      else
        snprintf(a_out, sizeof a_out, "--benchmark_out=results/%s/%s.json", machine, stamp);
      if (!mkdirs_for(a_out + strlen("--benchmark_out="))) goto done;
      gb[ng++] = a_out;
      gb[ng++] = "--benchmark_out_format=json";
      fprintf(stderr, "qkbench bench: JSON results -> %s\n", a_out + strlen("--benchmark_out="));
    }
    if (npass > 4096) {
      fprintf(stderr, "qkbench bench: too many --benchmark_ flags\n");
      goto done;
    }
    for (int i = 0; i < npass; i++) gb[ng++] = pass[i];
    gb[ng] = NULL;
    if (!listing)
      fprintf(stderr,
              "qkbench bench: %zu GEMM shapes, %zu benchmarks (%s weights, seed %zu, shapes %s); "
              "results print as each benchmark's repetitions complete\n",
              shapes.n, ncases + qkb_registered_count(), hot ? "hot" : "cold", seed, shapes_path);
    fflush(stderr);
    rc = qkb_main(ng, gb);
  }

done:
  free(ctx.p);
  qkb_rotation_shutdown();
  qkb_machine_shutdown();
  qkb_chain_shutdown();
  qkb_chain_paths_shutdown();
  qkb_i16x8_shutdown();
  qkb_float_shutdown();
  qkb_xnnpack_chain_shutdown();
  qkb_xnnpack_chain_f32_shutdown();
  qkb_net_shutdown();
  qkb_cases_free();
  if (have_model) qkb_model_free(&model);
  if (wls)
    for (size_t s = 0; s < shapes.n; s++) qkb_workload_destroy(wls[s]);
  free(wls);
  free(cases);
  qkb_shapes_free(&shapes);
  free(pass);
  return rc;
}
