/* Cold weights (STYLE.md item 9): each benchmark cycles through `count` independent copies of its
 * packed weights, together larger than the caches, so every iteration reads weights the previous
 * iterations evicted — as a network does, whose layer weights were last touched one inference ago.
 * Activations stay in one buffer (warm), as the previous layer just wrote them. --hot: one copy. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qkb_internal.h"

qkb_rotation_config qkb_rot_cfg = {.hot = false, .target_bytes = (size_t)64 << 20, .max_copies = 4096};

static qkb_rotation live;
static void *arena;
static size_t arena_size;

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

size_t qkb_copies_for(const qkb_shape *s) {
  if (qkb_rot_cfg.hot) return 1;
  const size_t per = s->k * s->n + 12 * s->n;
  size_t c = (qkb_rot_cfg.target_bytes + per - 1) / per;
  if (c > qkb_rot_cfg.max_copies) c = qkb_rot_cfg.max_copies;
  return c ? c : 1;
}

static void release_live(void) {
  if (live.release) live.release(&live);
  free(live.items);
  memset(&live, 0, sizeof live);
}

qkb_rotation *qkb_rotation_current(const void *owner) {
  return owner && live.owner == owner && live.items ? &live : NULL;
}

qkb_rotation *qkb_rotation_begin(const void *owner, size_t count, char *err, size_t errlen) {
  release_live();
  live.items = calloc(count ? count : 1, sizeof *live.items);
  if (!live.items) {
    fail(err, errlen, "out of memory for %zu rotation slots", count);
    return NULL;
  }
  live.owner = owner;
  live.count = count;
  return &live;
}

void qkb_rotation_abort(void) { release_live(); }

void *qkb_arena(size_t bytes, char *err, size_t errlen) {
  if (bytes <= arena_size) return arena;
  free(arena);
  arena = NULL;
  arena_size = 0;
  /* Grow in 64 MiB steps so slightly larger requests do not re-fault the whole arena. */
  const size_t step = (size_t)64 << 20;
  const size_t want = (bytes + step - 1) / step * step;
  if (posix_memalign(&arena, 64, want) != 0) {
    arena = NULL;
    fail(err, errlen, "cannot allocate a %zu MiB weight-rotation arena", want >> 20);
    return NULL;
  }
  arena_size = want;
  return arena;
}

void qkb_rotation_shutdown(void) {
  release_live();
  free(arena);
  arena = NULL;
  arena_size = 0;
}

bool qkb_pack_variant_copies(const qk_variant *v, const qkb_workload *wl, qkb_rotation *r, char *err,
                             size_t errlen) {
  if (v->op != QK_OP_FC || v->path != QK_PATH_INT8)
    return fail(err, errlen, "%s is not an int8 FC variant", v->name);
  const qk_fc_int8_impl *impl = v->impl;
  const size_t psize = impl->packed_size(wl->desc.out_ch, wl->desc.in_ch);
  if (!psize) return fail(err, errlen, "%s: packed_size is 0", v->name);
  size_t stride = (psize + 63) / 64 * 64;
  if (stride % 4096 == 0) stride += 64; /* keep copies off the same 4 KiB alias */
  size_t total;
  if (__builtin_mul_overflow(stride, r->count, &total))
    return fail(err, errlen, "%s: %zu copies of %zu bytes overflow", v->name, r->count, psize);
  char *base = qkb_arena(total, err, errlen);
  if (!base) return false;
  for (size_t i = 0; i < r->count; i++) r->items[i] = base + i * stride;
  impl->pack(&wl->desc, wl->w, wl->bias, r->items[0]);
  if (r->count > 1) {
    /* pack() is deterministic; if two packings at different addresses are byte-identical the
     * buffer holds no addresses, and a copy is exactly what pack() would write. Otherwise pack
     * each copy (slower, same result). */
    impl->pack(&wl->desc, wl->w, wl->bias, r->items[1]);
    const bool relocatable = memcmp(r->items[0], r->items[1], psize) == 0;
    for (size_t i = 2; i < r->count; i++) {
      if (relocatable)
        memcpy(r->items[i], r->items[0], psize);
      else
        impl->pack(&wl->desc, wl->w, wl->bias, r->items[i]);
    }
  }
  r->bytes = psize * r->count;
  r->next = 0;
  return true;
}
