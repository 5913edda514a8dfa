/* A small fixed pthread pool: the caller plus threads-1 workers.
 *
 * Each hl_threadpool_run() bumps a generation counter; workers spin briefly on it
 * (kernels often come in quick succession) and then sleep on a condition
 * variable, so an idle pool costs nothing between kernels (OpenBLAS runs
 * single-threaded inside it: hl_engine_init). Not reentrant: fn must not
 * call hl_threadpool_run on the same pool, and one pool serves one run at
 * a time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <cblas.h>

#include "threadpool.h"

/* OpenBLAS stays single-threaded: the pool splits each GEMM (sgemm.c), so
 * no idle OpenBLAS thread spins against the pool's workers. A process-wide
 * setting, made once at start-up rather than by every new run. */
static void engine_init_once(void)
{
    openblas_set_num_threads(1);
}

void hl_engine_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, engine_init_once);
}

#define HL_THREADPOOL_SPIN 500 /* polls before a worker or the caller sleeps */

struct hl_threadpool {
    int threads;               /* including the calling thread */
    pthread_t *workers;        /* threads - 1 */
    int started;               /* workers actually created */
    pthread_mutex_t mutex;
    pthread_cond_t start_cv;
    pthread_cond_t done_cv;
    atomic_ulong generation;
    atomic_int pending;        /* workers still running the current job */
    atomic_int stop;
    void (*fn)(void *ctx, int i, int n);
    void *ctx;
};

typedef struct {
    hl_threadpool *pool;
    int index;
} hl_worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
    hl_worker_arg *wa = arg;
    hl_threadpool *p = wa->pool;
    int index = wa->index;
    free(wa);
    /* generation 0 is the pool at creation: a run may start before this
     * thread does, and must not be taken as already seen */
    unsigned long seen = 0;
    for (;;) {
        unsigned long gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation,
                                           memory_order_acquire)) == seen &&
               !atomic_load(&p->stop) && spins < HL_THREADPOOL_SPIN) {
            cpu_relax();
            spins++;
        }
        if (gen == seen && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mutex);
            while ((gen = atomic_load(&p->generation)) == seen &&
                   !atomic_load(&p->stop))
                pthread_cond_wait(&p->start_cv, &p->mutex);
            pthread_mutex_unlock(&p->mutex);
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = gen;
        p->fn(p->ctx, index, p->threads);
        if (atomic_fetch_sub_explicit(&p->pending, 1,
                                      memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mutex);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mutex);
        }
    }
}

hl_threadpool *hl_threadpool_new(int threads)
{
    if (threads <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        threads = online > 0 ? (int)online : 1;
    }
    if (threads > 256)
        threads = 256;
    hl_threadpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = threads;
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
        if (!p->workers) {
            hl_threadpool_free(p);
            return NULL;
        }
        for (int i = 1; i < threads; i++) {
            hl_worker_arg *wa = malloc(sizeof *wa);
            if (!wa) {
                hl_threadpool_free(p);
                return NULL;
            }
            wa->pool = p;
            wa->index = i;
            if (pthread_create(&p->workers[i - 1], NULL, worker_main, wa)) {
                free(wa);
                hl_threadpool_free(p);
                return NULL;
            }
            p->started++;
        }
    }
    return p;
}

void hl_threadpool_free(hl_threadpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mutex);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->start_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

int hl_threadpool_threads(const hl_threadpool *p)
{
    return p ? p->threads : 1;
}

void hl_threadpool_run(hl_threadpool *p, void (*fn)(void *ctx, int i, int n), void *ctx)
{
    if (!p || p->threads <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->threads - 1);
    pthread_mutex_lock(&p->mutex);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mutex);

    fn(ctx, 0, p->threads);

    for (int spins = 0; spins < HL_THREADPOOL_SPIN; spins++) {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mutex);
    while (atomic_load(&p->pending) != 0)
        pthread_cond_wait(&p->done_cv, &p->mutex);
    pthread_mutex_unlock(&p->mutex);
}

typedef struct {
    long total;
    void (*fn)(void *ctx, long begin, long end);
    void *ctx;
} hl_range_job;

static void range_slice(void *arg, int i, int n)
{
    hl_range_job *job = arg;
    long begin = job->total * i / n;
    long end = job->total * (i + 1) / n;
    if (end > begin)
        job->fn(job->ctx, begin, end);
}

void hl_threadpool_for(hl_threadpool *p, long total,
                 void (*fn)(void *ctx, long begin, long end), void *ctx)
{
    if (total <= 0)
        return;
    if (!p || p->threads <= 1 || total == 1) {
        fn(ctx, 0, total);
        return;
    }
    hl_range_job job = { total, fn, ctx };
    hl_threadpool_run(p, range_slice, &job);
}
