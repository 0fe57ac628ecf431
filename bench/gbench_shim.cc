// The C API of bench/gbench.h over Google Benchmark 1.7.1. This is the project's only C++ file:
// it translates calls, and keeps C++ exceptions from unwinding through C frames.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

// The opaque handle a C benchmark function receives: the State plus what State keeps private
// (how many arguments it holds, so qkb_range can refuse an index instead of asserting).
struct qkb_state {
  benchmark::State *s;
  size_t nargs;
};

namespace {

benchmark::Counter::Flags counter_flags(unsigned f) {
  int r = benchmark::Counter::kDefaults;
  if (f & QKB_COUNTER_RATE) r |= benchmark::Counter::kIsRate;
  if (f & QKB_COUNTER_AVG_THREADS) r |= benchmark::Counter::kAvgThreads;
  if (f & QKB_COUNTER_ITERATION_INVARIANT) r |= benchmark::Counter::kIsIterationInvariant;
  if (f & QKB_COUNTER_AVG_ITERATIONS) r |= benchmark::Counter::kAvgIterations;
  if (f & QKB_COUNTER_INVERT) r |= benchmark::Counter::kInvert;
  return static_cast<benchmark::Counter::Flags>(r);
}

void complain(const char *where, const char *what) {
  std::fprintf(stderr, "qkbench: %s: %s\n", where, what);
}

// The registered functor: owns nothing but the C function, the user pointer and the arg count.
struct CallC {
  qkb_fn fn;
  void *user;
  size_t nargs;
  void operator()(benchmark::State &s) const {
    qkb_state st{&s, nargs};
    fn(&st, user);
  }
};

}  // namespace

extern "C" {

bool qkb_keep_running(qkb_state *st) { return st->s->KeepRunning(); }

bool qkb_keep_running_batch(qkb_state *st, int64_t n) {
  return st->s->KeepRunningBatch(static_cast<benchmark::IterationCount>(n > 0 ? n : 1));
}

int64_t qkb_iterations(const qkb_state *st) { return static_cast<int64_t>(st->s->iterations()); }

void qkb_pause_timing(qkb_state *st) { st->s->PauseTiming(); }
void qkb_resume_timing(qkb_state *st) { st->s->ResumeTiming(); }

size_t qkb_range_count(const qkb_state *st) { return st->nargs; }

int64_t qkb_range(const qkb_state *st, size_t pos) {
  return pos < st->nargs ? st->s->range(pos) : 0;
}

void qkb_counter(qkb_state *st, const char *name, double value, unsigned flags) {
  if (!name || !*name) return;
  try {
    const benchmark::Counter::OneK k =
        (flags & QKB_COUNTER_BASE_1024) ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000;
    st->s->counters[name] = benchmark::Counter(value, counter_flags(flags), k);
  } catch (const std::exception &e) {
    complain("qkb_counter", e.what());
  }
}

void qkb_set_bytes_processed(qkb_state *st, int64_t bytes) { st->s->SetBytesProcessed(bytes); }
void qkb_set_items_processed(qkb_state *st, int64_t items) { st->s->SetItemsProcessed(items); }

void qkb_set_label(qkb_state *st, const char *label) {
  try {
    st->s->SetLabel(label ? label : "");
  } catch (const std::exception &e) {
    complain("qkb_set_label", e.what());
  }
}

void qkb_skip_with_error(qkb_state *st, const char *msg) {
  st->s->SkipWithError(msg && *msg ? msg : "skipped");
}

bool qkb_error_occurred(const qkb_state *st) { return st->s->error_occurred(); }

void qkb_add_custom_context(const char *key, const char *value) {
  if (!key || !*key) return;
  try {
    benchmark::AddCustomContext(key, value ? value : "");
  } catch (const std::exception &e) {
    complain("qkb_add_custom_context", e.what());
  }
}

bool qkb_register(const char *name, qkb_fn fn, void *user, const qkb_options *o) {
  if (!name || !*name || !fn) return false;
  if (o && (o->repetitions < 0 || o->min_time < 0 || o->min_warmup_time < 0 || o->iterations < 0 ||
            (o->nargs && !o->args) || o->unit < QKB_UNIT_DEFAULT || o->unit > QKB_UNIT_S))
    return false;
  if (o && o->iterations > 0 && o->min_time > 0) return false; // Google Benchmark forbids both
  try {
    benchmark::internal::Benchmark *b =
        benchmark::RegisterBenchmark(name, CallC{fn, user, o ? o->nargs : 0});
    if (!o) return true;
    if (o->nargs) b->Args(std::vector<int64_t>(o->args, o->args + o->nargs));
    if (o->repetitions > 0) b->Repetitions(o->repetitions);
    if (o->min_time > 0) b->MinTime(o->min_time);
    if (o->min_warmup_time > 0) b->MinWarmUpTime(o->min_warmup_time);
    if (o->iterations > 0) b->Iterations(static_cast<benchmark::IterationCount>(o->iterations));
    if (o->use_real_time) b->UseRealTime();
    switch (o->unit) {
      case QKB_UNIT_NS: b->Unit(benchmark::kNanosecond); break;
      case QKB_UNIT_US: b->Unit(benchmark::kMicrosecond); break;
      case QKB_UNIT_MS: b->Unit(benchmark::kMillisecond); break;
      case QKB_UNIT_S: b->Unit(benchmark::kSecond); break;
      case QKB_UNIT_DEFAULT: break;
    }
    return true;
  } catch (const std::exception &e) {
    complain("qkb_register", e.what());
    return false;
  }
}

int qkb_main(int argc, char **argv) {
  try {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    const size_t matched = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return matched ? 0 : 1;
  } catch (const std::exception &e) {
    complain("benchmark run", e.what());
    return 1;
  }
}

}  // extern "C"
