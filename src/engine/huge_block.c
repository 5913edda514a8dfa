/* Large blocks for a run's memory and the incremental forward's arenas:
 * from 4 MiB they are aligned to 2 MiB, rounded up to whole 2 MiB pages
 * and marked for transparent huge pages, so a fresh process faults them in
 * as a few huge pages instead of thousands of 4 KiB ones (what a first
 * call of a long method spent most of its time on, under load). */
#include <stdlib.h>
#include <sys/mman.h>

#include "run_internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *hl_huge_block_alloc(size_t *bytes, size_t align)
{
    if (*bytes < 2 * HUGE_PAGE) {
        void *p = NULL;
        size_t n = *bytes ? (*bytes + align - 1) / align * align : align;
        return posix_memalign(&p, align, n) ? NULL : p;
    }
    size_t n = (*bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, n);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, n, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    if (p)
        *bytes = n;
    return p;
}
