/* A small fixed thread pool for splitting kernels across cores.
 * Work items get (index, count) slices like ggml's (ith, nth). */
#ifndef HL_POOL_H
#define HL_POOL_H

typedef struct hl_pool hl_pool;

/* threads <= 0: number of online processors. Returns NULL on failure
 * (callers then run single-threaded). */
hl_pool *hl_pool_new(int threads);
void hl_pool_free(hl_pool *p);
int hl_pool_threads(const hl_pool *p);

/* Calls fn(ctx, i, n) for i in [0, n) in parallel, n = number of threads
 * (the calling thread takes part); returns when all are done. A NULL pool
 * runs fn(ctx, 0, 1). */
void hl_pool_run(hl_pool *p, void (*fn)(void *ctx, int i, int n), void *ctx);

/* Convenience: split [0, total) into contiguous chunks, one per thread. */
void hl_pool_for(hl_pool *p, long total,
                 void (*fn)(void *ctx, long begin, long end), void *ctx);

#endif
