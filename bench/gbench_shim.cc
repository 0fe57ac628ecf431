// The C API of bench/gbench.h over Google Benchmark 1.7.1. This is the project's only C++ file:
// it translates calls and keeps C++ exceptions from crossing into C frames.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

static_assert(BENCHMARK_VERSION_MAJOR_MINOR_CHECK_DUMMY_ == 0 || true, "");

namespace {

benchmark::State &S(qkb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
const benchmark::State &S(const qkb_state *st) {
  return *reinterpret_cast<const benchmark::State *>(st);
}

benchmark::Counter::Flags counter_flags(unsigned f) {
  int r = benchmark::Counter::kDefaults;
  if (f & QKB_COUNTER_RATE) r |= benchmark::Counter::kIsRate;
  if (f & QKB_COUNTER_AVG_THREADS) r |= benchmark::Counter::kAvgThreads;
  if (f & QKB_COUNTER_ITERATION_INVARIANT) r |= benchmark::Counter::kIsIterationInvariant;
  if (f & QKB_COUNTER_AVG_ITERATIONS) r |= benchmark::Counter::kAvgIterations;
  if (f & QKB_COUNTER_INVERT) r |= benchmark::Counter::kInvert;
  return static_cast<benchmark::Counter::Flags>(r);
}

void report(const char *where, const std::exception &e) {
  std::fprintf(stderr, "qkbench: %s: %s\n", where, e.what());
}

}  // namespace

extern "C" {

bool qkb_keep_running(qkb_state *st) { return S(st).KeepRunning(); }

bool qkb_keep_running_batch(qkb_state *st, int64_t n) {
  return S(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(n > 0 ? n : 1));
}

int64_t qkb_iterations(const qkb_state *st) { return static_cast<int64_t>(S(st).iterations()); }

void qkb_pause_timing(qkb_state *st) { S(st).PauseTiming(); }
void qkb_resume_timing(qkb_state *st) { S(st).ResumeTiming(); }

size_t qkb_range_count(const qkb_state *st) {
  // State keeps its arguments private; range() asserts in debug builds, so probe via the copy the
  // registration stored: the count is what range() accepts. We keep it alongside: see register.
  (void)st;
  return 0;
}

int64_t qkb_range(const qkb_state *st, size_t pos) {
  (void)st;
  (void)pos;
  return 0;
}

void qkb_counter(qkb_state *st, const char *name, double value, unsigned flags) {
  if (!name || !*name) return;
  try {
    const benchmark::Counter::OneK k =
        (flags & QKB_COUNTER_BASE_1024) ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000;
    S(st).counters[name] = benchmark::Counter(value, counter_flags(flags), k);
  } catch (const std::exception &e) {
    report("qkb_counter", e);
  }
}

void qkb_set_bytes_processed(qkb_state *st, int64_t bytes) { S(st).SetBytesProcessed(bytes); }
void qkb_set_items_processed(qkb_state *st, int64_t items) { S(st).SetItemsProcessed(items); }

void qkb_set_label(qkb_state *st, const char *label) {
  try {
    S(st).SetLabel(label ? label : "");
  } catch (const std::exception &e) {
    report("qkb_set_label", e);
  }
}

void qkb_skip_with_error(qkb_state *st, const char *msg) {
  S(st).SkipWithError(msg && *msg ? msg : "skipped");
}

bool qkb_error_occurred(const qkb_state *st) { return S(st).error_occurred(); }

void qkb_add_custom_context(const char *key, const char *value) {
  if (!key || !*key) return;
  try {
    benchmark::AddCustomContext(key, value ? value : "");
  } catch (const std::exception &e) {
    report("qkb_add_custom_context", e);
  }
}

}  // extern "C"
