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

bool qkb_shapes_load(const char *path, bool all_layers, qkb_shape_list *out, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  char prefix[48];
  default_prefix(path, prefix, sizeof prefix);
  const size_t first = out->n;
  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  int row = -1;
  bool ok = true;
  size_t skipped_strided = 0;
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
        if (!len || len >= sizeof prefix) {
          ok = fail(err, errlen, "%s:%ld: '# label:' needs a name of 1..%zu characters", path, lineno,
                    sizeof prefix - 1);
          break;
        }
        for (size_t i = 0; i < len; i++)
          if (!isalnum((unsigned char)c[i]) && c[i] != '_' && c[i] != '-') {
            ok = fail(err, errlen, "%s:%ld: label '%.*s' may only hold letters, digits, '_' and '-'",
                      path, lineno, (int)len, c);
            break;
          }
        if (!ok) break;
        memcpy(prefix, c, len);
        prefix[len] = 0;
      }
      *hash = 0;
    }
    char *tok[9];
    int nt = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
      if (nt < 9) tok[nt] = t;
      nt++;
    }
    if (nt == 0) continue;
    row++;
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
    unsigned long long expect = 0, t;
    const unsigned long long oh = (in_h + stride - 1) / stride, ow = (in_w + stride - 1) / stride;
    bool no_ovf = true;
    if (conv)
      no_ovf = mul_ok(oh, ow, &t) && mul_ok(t, kernel * kernel, &t) && mul_ok(t, in_c, &t) && mul_ok(t, out_c, &expect);
    else if (dw)
      no_ovf = mul_ok(oh, ow, &t) && mul_ok(t, kernel * kernel, &t) && mul_ok(t, in_c, &expect);
    else if (fc)
      no_ovf = mul_ok(in_h, in_c, &t) && mul_ok(t, out_c, &expect);
    if (!no_ovf || (kernel > 65536)) {
      ok = fail(err, errlen, "%s:%ld: layer too large", path, lineno);
      break;
    }
    if (macs != expect) {
      ok = fail(err, errlen, "%s:%ld: macs %llu does not match the %s layer's shape (expected %llu)", path,
                lineno, macs, kind, expect);
      break;
    }
    if (!(conv && kernel == 1) && !fc) continue;
    if (conv && stride != 1) { /* a strided 1x1 conv is a GEMM only after subsampling */
      skipped_strided++;
      continue;
    }
    qkb_shape s = {.layer = row, .count = 1};
    if (conv) {
      s.m = (size_t)(in_h * in_w);
      s.h = (size_t)in_h;
      s.w = (size_t)in_w;
    } else {
      s.m = s.h = (size_t)in_h;
      s.w = 1;
    }
    s.k = (size_t)in_c;
    s.n = (size_t)out_c;
    snprintf(s.kind, sizeof s.kind, "%s", conv ? "pw" : "fc");
    snprintf(s.layers, sizeof s.layers, "%d", row);
    bool merged = false;
    if (!all_layers)
      for (size_t i = first; i < out->n; i++) {
        qkb_shape *o = &out->v[i];
        if (!strcmp(o->kind, s.kind) && o->m == s.m && o->k == s.k && o->n == s.n && o->h == s.h) {
          o->count++;
          size_t len = strlen(o->layers);
          if (len + 8 < sizeof o->layers) snprintf(o->layers + len, sizeof o->layers - len, " %d", row);
          merged = true;
          break;
        }
      }
    if (!merged && !push(out, &s)) ok = fail(err, errlen, "%s: out of memory", path);
  }
  if (ok && ferror(f)) ok = fail(err, errlen, "%s: read error", path);
  free(line);
  fclose(f);
  if (ok && out->n == first)
    ok = fail(err, errlen, "%s: no stride-1 pointwise conv or fc layer to benchmark (%ld lines read)", path, lineno);
  if (!ok) {
    out->n = first;
    return false;
  }
  /* Labels once the prefix is final (a '# label:' line may come anywhere). */
  for (size_t i = first; i < out->n; i++) {
    qkb_shape *s = &out->v[i];
    snprintf(s->label, sizeof s->label, "%s_%s%02d_M%zu_K%zu_N%zu", prefix, s->kind, s->layer, s->m, s->k, s->n);
  }
  if (skipped_strided)
    fprintf(stderr, "qkbench bench: %s: %zu strided 1x1 conv layer(s) are not plain GEMMs and are not timed\n",
            path, skipped_strided);
  return true;
}
