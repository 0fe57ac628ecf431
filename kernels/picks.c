/* Kernel-pick tables (written by scripts/pick.py from measured results): per (op, path, M, K, N)
 * the fastest exact variant on the machine that ran the benchmark. A runtime loads one with
 * qk_picks_load() or the QK_PICKS environment variable; dispatch then prefers the named variant
 * when it is built, supported and not above the QK_ISA cap. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk/registry.h"
#include "internal.h"

typedef struct pick {
  qk_op op;
  qk_path path;
  size_t m, k, n;
  const qk_variant *v;
} pick;

static pick *picks;
static size_t npicks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool op_from(const char *s, qk_op *op) {
  for (int i = 0; i < QK_OP_COUNT; i++)
    if (!strcmp(s, qk_op_name((qk_op)i))) return *op = (qk_op)i, true;
  return false;
}

static bool path_from(const char *s, qk_path *p) {
  for (int i = 0; i < QK_PATH_COUNT; i++)
    if (!strcmp(s, qk_path_name((qk_path)i))) return *p = (qk_path)i, true;
  return false;
}

qk_status qk_picks_load(const char *path) {
  if (!path) return qk_fail(QK_ERR_NULL, "picks: null path");
  FILE *f = fopen(path, "r");
  if (!f) return qk_fail(QK_ERR_PARAM, "picks: cannot open %s: %s", path, strerror(errno));
  pick *table = NULL;
  size_t n = 0, cap = 0, line_no = 0;
  char line[512];
  qk_status st = QK_OK;
  while (fgets(line, sizeof line, f)) {
    line_no++;
    if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') continue;
    char op[32], ph[32], name[160];
    unsigned long long m, k, nn;
    pick p;
    if (sscanf(line, "%31s %31s %llu %llu %llu %159s", op, ph, &m, &k, &nn, name) != 6) {
      st = qk_fail(QK_ERR_PARAM, "%s:%zu: expected 'op path M K N variant [median_ns]'", path, line_no);
      break;
    }
    if (!op_from(op, &p.op) || !path_from(ph, &p.path)) {
      st = qk_fail(QK_ERR_PARAM, "%s:%zu: unknown op '%s' or path '%s'", path, line_no, op, ph);
      break;
    }
    p.v = qk_variant_find(name);
    if (!p.v) continue; /* a variant this build does not have: the table came from another build */
    p.m = (size_t)m, p.k = (size_t)k, p.n = (size_t)nn;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      pick *t = realloc(table, cap * sizeof *t);
      if (!t) {
        st = qk_fail(QK_ERR_NOMEM, "picks: out of memory");
        break;
      }
      table = t;
    }
    table[n++] = p;
  }
  fclose(f);
  if (st) {
    free(table);
    return st;
  }
  pthread_mutex_lock(&lock);
  free(picks);
  picks = table, npicks = n;
  pthread_mutex_unlock(&lock);
  return QK_OK;
}

void qk_picks_clear(void) {
  pthread_mutex_lock(&lock);
  free(picks);
  picks = NULL, npicks = 0;
  pthread_mutex_unlock(&lock);
}

static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void load_env(void) {
  const char *p = getenv("QK_PICKS");
  if (p && *p && qk_picks_load(p) != QK_OK) fprintf(stderr, "qk: QK_PICKS ignored: %s\n", qk_last_error());
}

/* m == 0 matches any M (an FC is packed before its batch size is known). */
const qk_variant *qk_picks_lookup(qk_op op, qk_path path, size_t m, size_t k, size_t n) {
  pthread_once(&env_once, load_env);
  const qk_variant *found = NULL;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < npicks && !found; i++) {
    const pick *p = &picks[i];
    if (p->op == op && p->path == path && p->k == k && p->n == n && (m == 0 || p->m == m) &&
        !qk_variant_unavailable(p->v))
      found = p->v;
  }
  pthread_mutex_unlock(&lock);
  return found;
}
