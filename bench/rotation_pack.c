/* Cold copies of a packed buffer of any op and path, as qkb_pack_variant_copies (bench/rotation.c)
 * makes them for the int8 FC rows: one arena, copies 64-byte aligned and kept off a common 4 KiB
 * alias. */
#include <stdio.h>
#include <string.h>

#include "qkb_paths.h"

bool qkb_pack_rotation(qkb_rotation *r, size_t psize, void (*pack)(const void *ctx, void *dst), const void *ctx,
                       char *err, size_t errlen) {
  if (!psize) {
    snprintf(err, errlen, "packed_size is 0");
    return false;
  }
  size_t stride = (psize + 63) / 64 * 64, total;
  if (stride % 4096 == 0) stride += 64;
  if (__builtin_mul_overflow(stride, r->count, &total)) {
    snprintf(err, errlen, "%zu copies of %zu bytes overflow", r->count, psize);
    return false;
  }
  char *base = qkb_arena(total, err, errlen);
  if (!base) return false;
  for (size_t i = 0; i < r->count; i++) r->items[i] = base + i * stride;
  /* Packers may leave alignment padding unwritten: zeroed first, two packings at different
   * addresses then differ only if the buffer holds addresses. */
  memset(r->items[0], 0, psize);
  pack(ctx, r->items[0]);
  if (r->count > 1) {
    /* pack() is deterministic: byte-identical packings at two addresses hold no addresses, so a
     * copy is what pack() would write. */
    memset(r->items[1], 0, psize);
    pack(ctx, r->items[1]);
    const bool relocatable = memcmp(r->items[0], r->items[1], psize) == 0;
    for (size_t i = 2; i < r->count; i++) {
      if (relocatable)
        memcpy(r->items[i], r->items[0], psize);
      else
        pack(ctx, r->items[i]);
    }
  }
  r->bytes = psize * r->count;
  r->next = 0;
  return true;
}
