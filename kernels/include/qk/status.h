/* Status codes and rounding modes shared by every qkbench header. */
#ifndef QK_STATUS_H
#define QK_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qk_status {
  QK_OK = 0,
  QK_ERR_NULL,        /* a required pointer was NULL */
  QK_ERR_SHAPE,       /* a size is zero or the shapes disagree */
  QK_ERR_OVERFLOW,    /* a size computation would overflow */
  QK_ERR_PARAM,       /* a parameter is outside the documented contract */
  QK_ERR_UNSUPPORTED, /* no variant can run this on this CPU, or a forced variant is unknown */
  QK_ERR_NOMEM,
} qk_status;

/* TFLite builds: default gemmlowp "double rounding", or TFLITE_SINGLE_ROUNDING=1. */
typedef enum qk_rounding { QK_ROUND_DOUBLE = 0, QK_ROUND_SINGLE = 1 } qk_rounding;

const char *qk_status_str(qk_status s);
/* Message describing the last failure on this thread ("" if none). */
const char *qk_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
