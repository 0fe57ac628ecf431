/* Guard-page buffers: data ends on a PROT_NONE page so any tail over-read or over-write faults at
 * once; the bytes between the mapping start and the data hold a canary checked on demand. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

enum { CANARY = 0xA5, MAX_LIVE = 256 };

typedef struct guard {
  void *data;
  unsigned char *map;
  size_t maplen;
  size_t canary_len;
} guard;

static guard live[MAX_LIVE];

static guard *find(const void *p) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i].map && live[i].data == p) return &live[i];
  return NULL;
}

void *qkc_guard_alloc(size_t n, size_t align) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (align == 0 || page % align != 0) align = 1;
  /* One page of head room for the canary, the data pages, one guard page. */
  const size_t data_pages = (n + align + page - 1) / page;
  const size_t maplen = (data_pages + 2) * page;
  guard *g = NULL;
  for (int i = 0; !g && i < MAX_LIVE; i++)
    if (!live[i].map) g = &live[i];
  if (!g) return NULL;
  unsigned char *map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return NULL;
  unsigned char *end = map + maplen - page;
  if (mprotect(end, page, PROT_NONE) != 0) {
    munmap(map, maplen);
    return NULL;
  }
  unsigned char *data = (unsigned char *)((uintptr_t)(end - n) & ~(uintptr_t)(align - 1));
  memset(map, CANARY, (size_t)(data - map));
  /* Fill the data and the alignment slack after it with noise, never zeros, so a kernel that
   * forgets to write an output is caught. */
  memset(data, 0x3C, (size_t)(end - data));
  g->data = data;
  g->map = map;
  g->maplen = maplen;
  g->canary_len = (size_t)(data - map);
  return data;
}

bool qkc_guard_intact(const void *p) {
  const guard *g = find(p);
  if (!g) return false;
  for (size_t i = 0; i < g->canary_len; i++)
    if (g->map[i] != CANARY) return false;
  return true;
}

void qkc_guard_free(void *p) {
  guard *g = find(p);
  if (!p || !g) return;
  munmap(g->map, g->maplen);
  memset(g, 0, sizeof *g);
}

uint64_t qkc_next(qkc_rng *r) {
  uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

int32_t qkc_range(qkc_rng *r, int32_t lo, int32_t hi) {
  const uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo) + 1;
  return (int32_t)((int64_t)lo + (int64_t)(qkc_next(r) % span));
}
