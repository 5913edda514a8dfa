/* The engine's thread pool, internals: how kernels split work over it.
 * Work items get (index, count) slices like ggml's (ith, nth). Creating
 * and sharing a pool is public (engine.h: hl_threadpool_new,
 * hl_run_new_shared). */
#ifndef HL_THREADPOOL_H
#define HL_THREADPOOL_H

#include "engine.h"

/* Calls fn(ctx, i, n) for i in [0, n) in parallel, n = number of threads
 * (the calling thread takes part); returns when all are done. A NULL pool
 * runs fn(ctx, 0, 1). */
void hl_threadpool_run(hl_threadpool *p, void (*fn)(void *ctx, int i, int n),
                       void *ctx);

/* Convenience: split [0, total) into contiguous chunks, one per thread. */
void hl_threadpool_for(hl_threadpool *p, long total,
                       void (*fn)(void *ctx, long begin, long end), void *ctx);

#endif
