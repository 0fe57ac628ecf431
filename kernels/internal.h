/* Library-private helpers shared by kernels/ and arch/. */
#ifndef QK_INTERNAL_H
#define QK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qk/status.h"

#if defined(__GNUC__)
#define QK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QK_PRINTF(a, b)
#endif

/* Records a message for qk_last_error() and returns s. */
qk_status qk_fail(qk_status s, const char *fmt, ...) QK_PRINTF(2, 3);
void qk_clear_error(void);

/* a*b and a+b with overflow detection. */
static inline bool qk_mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool qk_add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

static inline size_t qk_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

#endif
