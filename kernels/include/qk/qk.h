/* qkbench public API: the umbrella include. */
#ifndef QK_QK_H
#define QK_QK_H

#include "qk/status.h"
#include "qk/quant.h"
#include "qk/fc.h"
#include "qk/conv.h"
#include "qk/eltwise.h"
#include "qk/pool.h"
#include "qk/convert.h"
#include "qk/i16x8.h"
#include "qk/float.h"
#include "qk/add_i16_pot.h"
#include "qk/registry.h"

#endif
