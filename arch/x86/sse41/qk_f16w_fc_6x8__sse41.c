/* f16-weight fully connected, SSE4.1: the binary16 weights are widened once when packing (no
 * F16C at this ISA level), then qk_f32_fc_6x8__sse41's code runs on them, so the outputs are
 * those of the f32 variant on widened weights, bit for bit (arch/x86/f32_gemm.h). */
#define FG_NAME(s) qk_f16w_fc_6x8__sse41##s
#define FG_HALF 0
#define FG_WIDEN_AT_PACK 1
#include "f32_vec_sse41.h"
#include "../f32_gemm.h"
