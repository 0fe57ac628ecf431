/* Machine probes timed in the same run as the kernels, so targets stated against the hardware
 * (the VNNI peak per cycle, the time to stream weights from memory) use figures measured beside
 * them rather than datasheet numbers: the core clock from a chain of dependent multiplies, and the
 * single-core read bandwidth over a buffer far larger than the caches. A chain of dependent adds
 * of an immediate does not work: recent x86 cores fold those at rename and report several GHz too
 * much. 64-bit imul has a 3-cycle latency on every x86-64 core of the last decade and mul on
 * AArch64 cores 2 to 4; the x86 figure is the one the targets use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "qkb_internal.h"

enum { MULS_PER_STEP = 16, IMUL_LATENCY = 3 };
/* Results land here so the compiler cannot drop the probes. */
static volatile uint64_t sink;
static const size_t STREAM_BYTES = (size_t)512 << 20;

/* Each multiply depends on the previous one, so the chain runs at one per IMUL_LATENCY cycles. */
static uint64_t dependent_muls(uint64_t steps, uint64_t x) {
  for (uint64_t i = 0; i < steps; i++) {
#if defined(__x86_64__)
    __asm__ volatile(".rept 16\n\timul %0, %0\n\t.endr" : "+r"(x));
#elif defined(__aarch64__)
    __asm__ volatile(".rept 16\n\tmul %0, %0, %0\n\t.endr" : "+r"(x));
#else
    x *= x; /* no probe on this architecture: reported as an error below */
#endif
  }
  return x;
}

static void bm_clock(qkb_state *st, void *user) {
  (void)user;
#if !defined(__x86_64__) && !defined(__aarch64__)
  qkb_skip_with_error(st, "no clock probe for this architecture");
  return;
#endif
  const uint64_t steps = 1u << 20;
  uint64_t x = 3;
  while (qkb_keep_running(st)) x = dependent_muls(steps, x);
  sink = x;
  qkb_counter(st, "hz", (double)steps * MULS_PER_STEP * IMUL_LATENCY, QKB_COUNTER_ITERATION_INVARIANT_RATE);
}

static uint64_t *stream_buf;

static void bm_stream(qkb_state *st, void *user) {
  (void)user;
  if (!stream_buf) {
    stream_buf = malloc(STREAM_BYTES);
    if (!stream_buf) {
      qkb_skip_with_error(st, "cannot allocate the stream buffer");
      return;
    }
    memset(stream_buf, 1, STREAM_BYTES);
  }
  const size_t n = STREAM_BYTES / sizeof(uint64_t);
  uint64_t total = 0;
  while (qkb_keep_running(st)) {
    uint64_t a[8] = {0};
    for (size_t i = 0; i < n; i += 8)
      for (int j = 0; j < 8; j++) a[j] += stream_buf[i + (size_t)j];
    for (int j = 0; j < 8; j++) total += a[j];
  }
  sink = total;
  qkb_counter(st, "bytes_per_second", (double)STREAM_BYTES, QKB_COUNTER_ITERATION_INVARIANT_RATE);
}

bool qkb_register_machine(bool real_time) {
  qkb_options o = {.unit = QKB_UNIT_MS, .use_real_time = real_time};
  return qkb_register("machine/probe/clock_dependent_imul", bm_clock, NULL, &o) &&
         qkb_register("machine/probe/stream_read_512MiB", bm_stream, NULL, &o);
}

void qkb_machine_shutdown(void) {
  free(stream_buf);
  stream_buf = NULL;
}
