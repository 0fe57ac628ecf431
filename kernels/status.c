#include <stdarg.h>
#include <stdio.h>

#include "qk/status.h"
#include "internal.h"

static _Thread_local char last_error[256];

const char *qk_status_str(qk_status s) {
  switch (s) {
    case QK_OK: return "ok";
    case QK_ERR_NULL: return "null pointer";
    case QK_ERR_SHAPE: return "invalid shape";
    case QK_ERR_OVERFLOW: return "size overflow";
    case QK_ERR_PARAM: return "parameter outside contract";
    case QK_ERR_UNSUPPORTED: return "unsupported";
    case QK_ERR_NOMEM: return "out of memory";
  }
  return "unknown status";
}

const char *qk_last_error(void) { return last_error; }

qk_status qk_fail(qk_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}

void qk_clear_error(void) { last_error[0] = '\0'; }
