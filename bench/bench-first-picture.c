/* bench-first-picture: how soon the first intermediate estimate of a long
 * call comes (issue 13's target: within 150 ms of the request for IG 200
 * and the seed occlusion on the bundled model), and what it is made of.
 *
 *   bench-first-picture [--model FILE.onnx] [--threads N] [--repeat N]
 *                       [--case ig|occlusion|all] [--cold window|cli]
 *
 * Each repeat makes the request (hl_attribute with an intermediate
 * callback, as the window's worker does), stops it right after the first
 * estimate (the cancel flag) and prints the wall and process-CPU time from
 * the request to that estimate, the units it covers and the progress
 * ticks before it. For scale it also times, in the same process, one
 * batch-1 forward and one batch-1 gradient (the engine's own calls): on a
 * loaded machine the CPU seconds and these ratios say more than the wall
 * time.
 *
 * --cold measures the first request of a fresh process instead: each
 * repeat forks a child that starts from nothing and makes one request, in
 * the window's order of events (`window`: model load, the classification
 * forward on the worker's shared thread pool as heatlens-worker.c makes
 * it, then the explain request on that pool) or the CLI's (`cli`: model
 * load, then `heatlens-cli explain`'s single hl_attribute call, which
 * classifies inside). Each child prints its phases; the parent prints the
 * medians over the repeats. Not a test: no thresholds; it prints numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "bench-clock.h"

#ifndef HL_SOURCE_ROOT
#define HL_SOURCE_ROOT "."
#endif

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct watch {
    double wall0, cpu0;
    double first_wall, first_cpu;
    int done, total, ticks;
    const char *unit;
    volatile int cancel;
} watch;

static void on_progress(void *user, double fraction)
{
    watch *w = user;
    (void)fraction;
    if (w->first_wall == 0.0)
        w->ticks++;
}

static void on_estimate(void *user, const hl_attr_partial *e)
{
    watch *w = user;
    if (w->first_wall != 0.0)
        return;
    w->first_wall = clock_s(CLOCK_MONOTONIC) - w->wall0;
    w->first_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - w->cpu0;
    w->done = e->done;
    w->total = e->total;
    w->unit = e->unit;
    w->cancel = 1;   /* the rest of the call is not what we measure */
}

static void fill_input(float *x, size_t n)
{
    unsigned long long s = 0x5eedULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
    }
}

static watch first_picture(const hl_model *m, const hl_array *x, const char *which,
                           int threads, hl_threadpool *pool)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    const char *method = "integrated_gradients";
    if (strcmp(which, "occlusion") == 0) {
        int st[3] = {3, 8, 8}, win[3] = {3, 15, 15};
        method = "occlusion";
        memcpy(p.strides, st, sizeof st);
        memcpy(p.window, win, sizeof win);
    } else {
        p.n_steps = 200;
    }
    watch w;
    memset(&w, 0, sizeof w);
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.progress = on_progress;
    ctx.intermediate = on_estimate;
    ctx.progress_user = &w;
    ctx.cancel = &w.cancel;
    ctx.threads = pool ? 0 : threads;
    ctx.threadpool = pool;
    hl_attr_result r;
    memset(&r, 0, sizeof r);
    hl_error err = {0};
    w.wall0 = clock_s(CLOCK_MONOTONIC);
    w.cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    hl_status st = hl_attribute(m, method, x, &p, &ctx, &r, &err);
    if (w.first_wall == 0.0)
        printf("%-10s no estimate (%s)\n", which, st == HL_OK ? "finished" : err.msg);
    else
        printf("%-10s first estimate after %6.1f ms wall, %6.1f ms CPU: %d of %d %s, "
               "%d batches before it\n", which, w.first_wall * 1e3, w.first_cpu * 1e3,
               w.done, w.total, w.unit, w.ticks);
    hl_attr_result_clear(&r);
    return w;
}

/* One batch-1 forward and one batch-1 gradient of the target logit, by
 * the engine, for scale (after a warm-up call each). */
static void engine_scale(const hl_model *m, const hl_array *x, int threads)
{
    hl_run *run = hl_run_new(m, threads);
    hl_error err = {0};
    int out = hl_model_output_value(m);
    double f_wall = 0, f_cpu = 0, g_wall = 0, g_cpu = 0;
    for (int k = 0; k < 4 && run; k++) {
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        hl_run_forward(run, x->data, 1, &err);
        double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        hl_shape os;
        hl_run_value(run, out, &os);
        float *seed = calloc((size_t)hl_shape_numel(&os), sizeof(float));
        seed[0] = 1.0f;
        hl_run_backward(run, out, seed, HL_RULE_GRADIENT, NULL, &err);
        free(seed);
        double w2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (k > 0) { /* the first call plans the run */
            f_wall += (w1 - w0) / 3, f_cpu += (c1 - c0) / 3;
            g_wall += (w2 - w0) / 3, g_cpu += (c2 - c0) / 3;
        }
    }
    printf("engine     batch-1 forward %.1f ms wall, %.1f ms CPU; forward + backward "
           "%.1f ms wall, %.1f ms CPU\n", f_wall * 1e3, f_cpu * 1e3, g_wall * 1e3,
           g_cpu * 1e3);
    hl_run_free(run);
}

/* ---------------------------------------------------------------- cold */

enum { PH_LOAD, PH_CLASSIFY, PH_FIRST, PH_FIRST_CPU, PH_SECOND, PH_N };
static const char *const ph_name[PH_N] = {
    "model load", "classify", "first estimate", "first estimate CPU",
    "again, warm"
};

/* One fresh process's phases (ms), written to fd: load, classify (the
 * window's order only), request -> first estimate (wall, CPU), and the
 * same request once more in the same process (warm). */
static int cold_child(const char *model_path, const char *which, int threads,
                      int window, int fd)
{
    double ph[PH_N] = {0};
    double t0 = now();
    hl_engine_init();
    hl_model *m = NULL;
    hl_error err = {0};
    if (hl_model_load_onnx(model_path, &m, &err) != HL_OK) {
        fprintf(stderr, "bench-first-picture: %s\n", err.msg);
        return 1;
    }
    ph[PH_LOAD] = (now() - t0) * 1e3;
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    hl_array *x = hl_array_new(&s);
    fill_input(x->data, (size_t)hl_shape_numel(&s));
    hl_threadpool *pool = NULL;
    if (window) {
        /* heatlens-worker.c: one pool for every job; classify makes a run
         * of its own on it, forwards the photo once and frees the run */
        t0 = now();
        pool = hl_threadpool_new(threads);
        hl_run *run = hl_run_new_shared(m, pool);
        if (!run || hl_run_forward(run, x->data, 1, &err) != HL_OK) {
            fprintf(stderr, "bench-first-picture: classify: %s\n", err.msg);
            return 1;
        }
        hl_run_free(run);
        ph[PH_CLASSIFY] = (now() - t0) * 1e3;
    }
    watch w = first_picture(m, x, which, threads, pool);
    ph[PH_FIRST] = w.first_wall * 1e3;
    ph[PH_FIRST_CPU] = w.first_cpu * 1e3;
    w = first_picture(m, x, which, threads, pool);
    ph[PH_SECOND] = w.first_wall * 1e3;
    hl_array_free(x);
    hl_model_free(m);
    hl_threadpool_free(pool);
    fflush(stdout);
    return write(fd, ph, sizeof ph) == (ssize_t)sizeof ph ? 0 : 1;
}

static int cold(const char *model_path, const char *which, int threads,
                int repeat, int window)
{
    double (*ph)[PH_N] = calloc((size_t)repeat, sizeof *ph);
    int got = 0;
    for (int k = 0; k < repeat && ph; k++) {
        int p[2];
        if (pipe(p))
            break;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            _exit(cold_child(model_path, which, threads, window, p[1]));
        }
        close(p[1]);
        if (pid > 0 && read(p[0], ph[got], sizeof ph[got]) == (ssize_t)sizeof ph[got])
            got++;
        close(p[0]);
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    if (!got) {
        free(ph);
        return 1;
    }
    printf("%s, cold, %s order, %d fresh processes: medians (min-max) in ms\n",
           which, window ? "window" : "cli", got);
    double v[256];
    for (int i = 0; i < PH_N; i++) {
        if (i == PH_CLASSIFY && !window)
            continue;
        int n = got < 256 ? got : 256;
        for (int k = 0; k < n; k++)
            v[k] = ph[k][i];
        double md = median(v, n);
        printf("  %-20s %7.1f (%.1f-%.1f)\n", ph_name[i], md, v[0], v[n - 1]);
    }
    free(ph);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model_path = HL_SOURCE_ROOT "/data/models/mobilenet_v2.onnx";
    const char *which = "all";
    const char *cold_order = NULL;
    int threads = 0, repeat = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--model") == 0)
            model_path = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--case") == 0)
            which = argv[i + 1];
        else if (strcmp(argv[i], "--cold") == 0)
            cold_order = argv[i + 1];
        else {
            fprintf(stderr, "bench-first-picture: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (cold_order) {
        int window = strcmp(cold_order, "window") == 0;
        if (!window && strcmp(cold_order, "cli") != 0) {
            fprintf(stderr, "bench-first-picture: --cold window|cli\n");
            return 2;
        }
        int rc = 0;
        if (strcmp(which, "all") == 0 || strcmp(which, "ig") == 0)
            rc |= cold(model_path, "ig", threads, repeat, window);
        if (strcmp(which, "all") == 0 || strcmp(which, "occlusion") == 0)
            rc |= cold(model_path, "occlusion", threads, repeat, window);
        return rc;
    }
    hl_engine_init();
    hl_model *m = NULL;
    hl_error err = {0};
    if (hl_model_load_onnx(model_path, &m, &err) != HL_OK) {
        fprintf(stderr, "bench-first-picture: %s\n", err.msg);
        return 1;
    }
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    hl_array *x = hl_array_new(&s);
    fill_input(x->data, (size_t)hl_shape_numel(&s));
    printf("%s, threads %d, load %s", model_path, threads, "");
    FILE *f = fopen("/proc/loadavg", "r");
    char load[64] = "?";
    if (f && fgets(load, sizeof load, f))
        printf("%s", load);
    else
        printf("?\n");
    if (f)
        fclose(f);
    engine_scale(m, x, threads);
    for (int k = 0; k < repeat; k++) {
        if (strcmp(which, "all") == 0 || strcmp(which, "ig") == 0)
            first_picture(m, x, "ig", threads, NULL);
        if (strcmp(which, "all") == 0 || strcmp(which, "occlusion") == 0)
            first_picture(m, x, "occlusion", threads, NULL);
    }
    hl_array_free(x);
    hl_model_free(m);
    return 0;
}
