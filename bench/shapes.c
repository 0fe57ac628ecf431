/* Model layer tables -> the GEMMs the harness times. Table format (one layer per line, execution
 * order, '#' starts a comment):  kind in_h in_w in_c out_c kernel stride macs
 * kinds: conv (k x k, SAME), dw (depthwise), add, gap, fc (H = batch). Every row is checked,
 * including its MAC count, so a damaged table is reported by file and line, not benchmarked. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_internal.h"

#define MAX_DIM ((unsigned long long)1 << 31)

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

static bool push(qkb_shape_list *l, const qkb_shape *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    qkb_shape *v = realloc(l->v, cap * sizeof *v);
    if (!v) return false;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *s;
  return true;
}

void qkb_shapes_free(qkb_shape_list *l) {
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

bool qkb_shapes_add_fc(qkb_shape_list *out, size_t m, size_t k, size_t n) {
  qkb_shape s = {.layer = -1, .m = m, .k = k, .n = n, .h = m, .w = 1, .count = 1};
  snprintf(s.kind, sizeof s.kind, "fc");
  snprintf(s.label, sizeof s.label, "fc_M%zu_K%zu_N%zu", m, k, n);
  return push(out, &s);
}

/* Short names for the tables we ship; anything else uses its sanitised file stem. */
static void default_prefix(const char *path, char *prefix, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  static const struct { const char *stem, *name; } known[] = {
      {"mobilenet_v2_1.0_224", "mnv2"},
  };
  size_t len = strcspn(base, ".");
  const char *dot = strstr(base, ".txt");
  if (dot) len = (size_t)(dot - base);
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strlen(known[i].stem) == len && strncmp(base, known[i].stem, len) == 0) {
      snprintf(prefix, n, "%s", known[i].name);
      return;
    }
  size_t j = 0;
  for (size_t i = 0; i < len && j + 1 < n; i++) {
    unsigned char c = (unsigned char)base[i];
    prefix[j++] = isalnum(c) ? (char)tolower(c) : '_';
  }
  prefix[j] = 0;
  if (!j) snprintf(prefix, n, "model");
}

static bool parse_dim(const char *tok, unsigned long long *v) {
  if (!tok || !isdigit((unsigned char)tok[0])) return false;
  errno = 0;
  char *end;
  unsigned long long x = strtoull(tok, &end, 10);
  if (errno || *end || x > MAX_DIM) return false;
  *v = x;
  return true;
}

static bool mul_ok(unsigned long long a, unsigned long long b, unsigned long long *r) {
  return !__builtin_mul_overflow(a, b, r);
}

/* Reads and checks every row of a table (see the file header). */
bool qkb_table_read(const char *path, qkb_table *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  default_prefix(path, t->prefix, sizeof t->prefix);
  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  bool ok = true;
  while (ok && getline(&line, &cap, f) >= 0) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) {
      /* "# label: NAME" names the model in benchmark labels. */
      const char *c = hash + 1;
      while (*c == ' ' || *c == '\t') c++;
      if (strncmp(c, "label:", 6) == 0) {
        c += 6;
        while (*c == ' ' || *c == '\t') c++;
        size_t len = strcspn(c, " \t\r\n");
        if (!len || len >= sizeof t->prefix) {
          ok = fail(err, errlen, "%s:%ld: '# label:' needs a name of 1..%zu characters", path, lineno,
                    sizeof t->prefix - 1);
          break;
        }
        for (size_t i = 0; i < len; i++)
          if (!isalnum((unsigned char)c[i]) && c[i] != '_' && c[i] != '-') {
            ok = fail(err, errlen, "%s:%ld: label '%.*s' may only hold letters, digits, '_' and '-'",
                      path, lineno, (int)len, c);
            break;
          }
        if (!ok) break;
        memcpy(t->prefix, c, len);
        t->prefix[len] = 0;
      }
      *hash = 0;
    }
    char *tok[9];
    int nt = 0;
    char *save = NULL;
    for (char *tk = strtok_r(line, " \t\r\n", &save); tk; tk = strtok_r(NULL, " \t\r\n", &save)) {
      if (nt < 9) tok[nt] = tk;
      nt++;
    }
    if (nt == 0) continue;
    if (nt != 8) {
      ok = fail(err, errlen,
                "%s:%ld: expected 8 columns (kind in_h in_w in_c out_c kernel stride macs), got %d",
                path, lineno, nt);
      break;
    }
    static const char *const names[] = {"in_h", "in_w", "in_c", "out_c", "kernel", "stride", "macs"};
    unsigned long long v[7] = {0};
    for (int i = 0; i < 7; i++) {
      if (!parse_dim(tok[i + 1], &v[i])) {
        ok = fail(err, errlen, "%s:%ld: %s must be an integer in [0, 2^31], got '%s'", path, lineno,
                  names[i], tok[i + 1]);
        break;
      }
    }
    if (!ok) break;
    const unsigned long long in_h = v[0], in_w = v[1], in_c = v[2], out_c = v[3], kernel = v[4],
                             stride = v[5], macs = v[6];
    const char *kind = tok[0];
    const bool conv = !strcmp(kind, "conv"), dw = !strcmp(kind, "dw"), fc = !strcmp(kind, "fc");
    if (!conv && !dw && !fc && strcmp(kind, "add") && strcmp(kind, "gap")) {
      ok = fail(err, errlen, "%s:%ld: unknown layer kind '%s' (conv, dw, add, gap, fc)", path, lineno, kind);
      break;
    }
    if (!in_h || !in_w || !in_c || !out_c || !stride) {
      ok = fail(err, errlen, "%s:%ld: in_h, in_w, in_c, out_c and stride must be >= 1", path, lineno);
      break;
    }
    if ((conv || dw) && !kernel) {
      ok = fail(err, errlen, "%s:%ld: a %s layer needs kernel >= 1", path, lineno, kind);
      break;
    }
    if (dw && in_c != out_c) {
      ok = fail(err, errlen, "%s:%ld: a dw layer has in_c == out_c (got %llu, %llu)", path, lineno, in_c, out_c);
      break;
    }
    if (fc && (in_w != 1 || stride != 1)) {
      ok = fail(err, errlen, "%s:%ld: an fc layer has in_w 1 and stride 1 (H is the batch)", path, lineno);
      break;
    }
    unsigned long long expect = 0, tt;
    const unsigned long long oh = (in_h + stride - 1) / stride, ow = (in_w + stride - 1) / stride;
    bool no_ovf = true;
    if (conv)
      no_ovf = mul_ok(oh, ow, &tt) && mul_ok(tt, kernel * kernel, &tt) && mul_ok(tt, in_c, &tt) && mul_ok(tt, out_c, &expect);
    else if (dw)
      no_ovf = mul_ok(oh, ow, &tt) && mul_ok(tt, kernel * kernel, &tt) && mul_ok(tt, in_c, &expect);
    else if (fc)
      no_ovf = mul_ok(in_h, in_c, &tt) && mul_ok(tt, out_c, &expect);
    if (!no_ovf || (kernel > 65536)) {
      ok = fail(err, errlen, "%s:%ld: layer too large", path, lineno);
      break;
    }
    if (macs != expect) {
      ok = fail(err, errlen, "%s:%ld: macs %llu does not match the %s layer's shape (expected %llu)", path,
                lineno, macs, kind, expect);
      break;
    }
    if (t->n == t->cap) {
      const size_t ncap = t->cap ? 2 * t->cap : 64;
      qkb_table_row *nv = realloc(t->rows, ncap * sizeof *nv);
      if (!nv) {
        ok = fail(err, errlen, "%s: out of memory", path);
        break;
      }
      t->rows = nv;
      t->cap = ncap;
    }
    qkb_table_row *r = &t->rows[t->n++];
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    r->in_h = (size_t)in_h, r->in_w = (size_t)in_w, r->in_c = (size_t)in_c, r->out_c = (size_t)out_c;
    r->kernel = (size_t)kernel, r->stride = (size_t)stride, r->macs = (uint64_t)macs;
    r->line = lineno;
  }
  if (ok && ferror(f)) ok = fail(err, errlen, "%s: read error", path);
  free(line);
  fclose(f);
  if (!ok) qkb_table_free(t);
  return ok;
}

void qkb_table_free(qkb_table *t) {
  free(t->rows);
  t->rows = NULL;
  t->n = t->cap = 0;
}

bool qkb_shapes_load(const char *path, bool all_layers, qkb_shape_list *out, char *err, size_t errlen) {
  qkb_table t;
  if (!qkb_table_read(path, &t, err, errlen)) return false;
  const size_t first = out->n;
  bool ok = true;
  size_t skipped_strided = 0;
  for (size_t row = 0; ok && row < t.n; row++) {
    const qkb_table_row *r = &t.rows[row];
    const bool conv = !strcmp(r->kind, "conv"), fc = !strcmp(r->kind, "fc");
    if (!(conv && r->kernel == 1) && !fc) continue;
    if (conv && r->stride != 1) { /* a strided 1x1 conv is a GEMM only after subsampling */
      skipped_strided++;
      continue;
    }
    qkb_shape s = {.layer = (int)row, .count = 1};
    if (conv) {
      s.m = r->in_h * r->in_w;
      s.h = r->in_h;
      s.w = r->in_w;
    } else {
      s.m = s.h = r->in_h;
      s.w = 1;
    }
    s.k = r->in_c;
    s.n = r->out_c;
    snprintf(s.kind, sizeof s.kind, "%s", conv ? "pw" : "fc");
    snprintf(s.layers, sizeof s.layers, "%zu", row);
    bool merged = false;
    if (!all_layers)
      for (size_t i = first; i < out->n; i++) {
        qkb_shape *o = &out->v[i];
        if (!strcmp(o->kind, s.kind) && o->m == s.m && o->k == s.k && o->n == s.n && o->h == s.h) {
          o->count++;
          size_t len = strlen(o->layers);
          if (len + 8 < sizeof o->layers) snprintf(o->layers + len, sizeof o->layers - len, " %zu", row);
          merged = true;
          break;
        }
      }
    if (!merged && !push(out, &s)) ok = fail(err, errlen, "%s: out of memory", path);
  }
  if (ok && out->n == first)
    ok = fail(err, errlen, "%s: no stride-1 pointwise conv or fc layer to benchmark (%zu layers read)", path, t.n);
  if (!ok) {
    out->n = first;
    qkb_table_free(&t);
    return false;
  }
  for (size_t i = first; i < out->n; i++) {
    qkb_shape *s = &out->v[i];
    snprintf(s->label, sizeof s->label, "%s_%s%02d_M%zu_K%zu_N%zu", t.prefix, s->kind, s->layer, s->m, s->k, s->n);
  }
  qkb_table_free(&t);
  if (skipped_strided)
    fprintf(stderr, "qkbench bench: %s: %zu strided 1x1 conv layer(s) are not plain GEMMs and are not timed\n",
            path, skipped_strided);
  return true;
}
