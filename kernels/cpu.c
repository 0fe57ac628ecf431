/* CPU feature detection: cpuinfo, plus our own checks for what Debian's cpuinfo (2022-06) lacks:
 * AVX-VNNI (VEX-encoded vpdpbusd on ymm) and ARM i8mm. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpuinfo.h>

#include "qk/registry.h"
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool supported[QK_ISA_COUNT];
static char cpu_name[128] = "unknown";
static char features[256];

#if defined(__x86_64__) || defined(__i386__)
static bool os_saves_ymm(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return false;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 6u) == 6u; /* XMM and YMM state enabled by the OS */
}

/* CPUID.(EAX=7,ECX=1):EAX bit 4 = AVX-VNNI. */
static bool has_avxvnni(void) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 7) return false;
  __cpuid_count(7, 1, a, b, c, d);
  return (a & (1u << 4)) && os_saves_ymm();
}
#endif

#if defined(__aarch64__)
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#endif

static void add_feature(const char *f) {
  size_t n = strlen(features);
  snprintf(features + n, sizeof features - n, "%s%s", n ? " " : "", f);
}

static void detect(void) {
  supported[QK_ISA_SCALAR] = true;
  if (!cpuinfo_initialize()) {
    fprintf(stderr, "qk: cpuinfo_initialize failed; only scalar kernels will run\n");
    return;
  }
  const struct cpuinfo_package *pkg = cpuinfo_get_package(0);
  if (pkg && pkg->name[0]) snprintf(cpu_name, sizeof cpu_name, "%s", pkg->name);
#if defined(__x86_64__) || defined(__i386__)
  supported[QK_ISA_SSE41] = cpuinfo_has_x86_sse4_1();
  /* The avx2 folder is built with -mfma -mf16c too (the float kernels): it needs all three. */
  supported[QK_ISA_AVX2] = cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
  supported[QK_ISA_AVXVNNI] = cpuinfo_has_x86_avx2() && has_avxvnni();
  supported[QK_ISA_AVX512VNNI] = cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
                                 cpuinfo_has_x86_avx512dq() && cpuinfo_has_x86_avx512vl() &&
                                 cpuinfo_has_x86_avx512vnni();
  if (supported[QK_ISA_SSE41]) add_feature("sse4.1");
  if (supported[QK_ISA_AVX2]) add_feature("avx2");
  if (cpuinfo_has_x86_fma3()) add_feature("fma3");
  if (cpuinfo_has_x86_f16c()) add_feature("f16c");
  if (cpuinfo_has_x86_avx512f()) add_feature("avx512f");
  if (cpuinfo_has_x86_avx512bw()) add_feature("avx512bw");
  if (cpuinfo_has_x86_avx512vl()) add_feature("avx512vl");
  if (cpuinfo_has_x86_avx512vnni()) add_feature("avx512vnni");
  if (cpuinfo_has_x86_avx512bf16()) add_feature("avx512bf16");
  if (supported[QK_ISA_AVXVNNI]) add_feature("avxvnni");
#elif defined(__aarch64__)
  supported[QK_ISA_NEON] = cpuinfo_has_arm_neon();
  supported[QK_ISA_NEONDOT] = cpuinfo_has_arm_neon_dot();
  supported[QK_ISA_I8MM] = supported[QK_ISA_NEONDOT] && (getauxval(AT_HWCAP2) & HWCAP2_I8MM);
  supported[QK_ISA_NEONFP16] = cpuinfo_has_arm_neon_fp16_arith();
  if (supported[QK_ISA_NEON]) add_feature("neon");
  if (supported[QK_ISA_NEONDOT]) add_feature("dotprod");
  if (supported[QK_ISA_I8MM]) add_feature("i8mm");
  if (cpuinfo_has_arm_neon_fp16_arith()) add_feature("fp16");
#endif
}

bool qk_isa_supported(qk_isa isa) {
  pthread_once(&once, detect);
  return isa < QK_ISA_COUNT && supported[isa];
}

const char *qk_cpu_name(void) {
  pthread_once(&once, detect);
  return cpu_name;
}

const char *qk_cpu_features(void) {
  pthread_once(&once, detect);
  return features;
}

static _Atomic int cap_override = -1;

void qk_set_isa_cap(qk_isa cap) { cap_override = cap >= QK_ISA_COUNT ? -1 : (int)cap; }

qk_isa qk_isa_cap(void) {
  const int o = cap_override;
  if (o >= 0) return (qk_isa)o;
  const char *env = getenv("QK_ISA");
  if (!env || !*env) return (qk_isa)(QK_ISA_COUNT - 1);
  qk_isa isa;
  return qk_isa_from_name(env, &isa) ? isa : QK_ISA_COUNT;
}
