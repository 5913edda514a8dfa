/* bench-attr: time the two attribution calls the issue names on the
 * bundled model, with peak memory, next to Captum's times on the same kind
 * of machine (2 cores; Captum 0.7 / PyTorch 1.13 on a MobileNet V2):
 *
 *   occlusion, strides 3,8,8, window 3,15,15, baseline 0    Captum 30.6 s
 *   integrated_gradients, 200 steps, internal batch 50      Captum 12.4 s
 *                                                           (4.6 GB)
 *
 *   bench-attr [--model FILE.onnx] [--threads N] [--ppe N]
 *              [--case occlusion|ig|ig-auto|all]
 *
 * ig-auto is the same IG call with internal_batch_size 0 (our automatic
 * step batch that bounds activation memory).
 * Each case runs in its own child process so that its peak resident memory
 * (getrusage ru_maxrss of the child) is its own. CPU time (user + system)
 * is printed too: on a loaded machine it says more than the wall time. The input is a fixed
 * pseudo-random image in the model's normalised range. Not a test: no
 * thresholds; it prints numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "bench-clock.h"

#ifndef HL_SOURCE_ROOT
#define HL_SOURCE_ROOT "."
#endif

typedef struct bench_result {
    int ok;
    double seconds;
    long max_rss_kb;
    double cpu_seconds;    /* user + system time of the case */
    int target;
    double sum;
    char msg[520];
} bench_result;

static void fill_input(float *x, size_t n)
{
    unsigned long long s = 0x5eedULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
    }
}

static void run_case(const char *model_path, const char *which, int threads,
                     int ppe, bench_result *res)
{
    hl_model *m = NULL;
    hl_error err = {0};
    memset(res, 0, sizeof *res);
    if (hl_model_load_onnx(model_path, &m, &err) != HL_OK) {
        snprintf(res->msg, sizeof res->msg, "%s", err.msg);
        return;
    }
    hl_shape s;
    hl_model_input_shape(m, &s);
    s.dims[0] = 1;
    hl_array *x = hl_array_new(&s);
    fill_input(x->data, (size_t)hl_shape_numel(&s));

    hl_attr_params p;
    hl_attr_params_init(&p);
    const char *method;
    if (strcmp(which, "occlusion") == 0) {
        method = "occlusion";
        int st[3] = {3, 8, 8}, win[3] = {3, 15, 15};
        memcpy(p.strides, st, sizeof st);
        memcpy(p.window, win, sizeof win);
        strcpy(p.baseline, "0");
        if (ppe > 0)
            p.perturbations_per_eval = ppe;
    } else {
        method = "integrated_gradients";
        p.n_steps = 200;
        /* "ig": Captum's call; "ig-auto": our automatic, memory-bounded
         * step batch (internal_batch_size 0). */
        p.internal_batch_size = strcmp(which, "ig") == 0 ? 50 : 0;
    }
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = threads;
    hl_attr_result r;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    double cpu0 = ru0.ru_utime.tv_sec + ru0.ru_utime.tv_usec * 1e-6 +
                  ru0.ru_stime.tv_sec + ru0.ru_stime.tv_usec * 1e-6;
    double t0 = now();
    hl_status st = hl_attribute(m, method, x, &p, &ctx, &r, &err);
    res->seconds = now() - t0;
    if (st == HL_OK) {
        res->ok = 1;
        res->target = r.target;
        for (int64_t i = 0; i < hl_shape_numel(&r.attr->shape); i++)
            res->sum += r.attr->data[i];
        hl_attr_result_clear(&r);
    } else {
        snprintf(res->msg, sizeof res->msg, "%s", err.msg);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    res->max_rss_kb = ru.ru_maxrss;
    res->cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6 - cpu0;
    hl_array_free(x);
    hl_model_free(m);
}

/* Run one case in a child; the result comes back through a pipe. */
static int run_in_child(const char *model, const char *which, int threads,
                        int ppe, bench_result *res)
{
    int fd[2];
    if (pipe(fd) != 0)
        return 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        close(fd[0]);
        bench_result r;
        run_case(model, which, threads, ppe, &r);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], res, sizeof *res);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof *res;
}

int main(int argc, char **argv)
{
    hl_engine_init();
    const char *model = HL_SOURCE_ROOT "/data/models/mobilenet_v2.onnx";
    const char *which = "all";
    int threads = 0, ppe = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ppe") == 0 && i + 1 < argc)
            ppe = atoi(argv[++i]);
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            which = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--model FILE.onnx] [--threads N] "
                    "[--ppe N] [--case occlusion|ig|ig-auto|all]\n", argv[0]);
            return 2;
        }
    }
    if (threads > 0)
        printf("model %s, %d threads\n", model, threads);
    else
        printf("model %s, all cores\n", model);
    struct {
        const char *name, *label;
        double captum_s;
    } cases[] = {
        {"occlusion", "occlusion strides 3,8,8 window 3,15,15 baseline 0", 30.6},
        {"ig", "integrated_gradients 200 steps, internal batch 50", 12.4},
        {"ig-auto", "integrated_gradients 200 steps, automatic batch", 12.4},
    };
    int failed = 0;
    for (int k = 0; k < 3; k++) {
        if (strcmp(which, "all") != 0 && strcmp(which, cases[k].name) != 0)
            continue;
        bench_result r;
        if (!run_in_child(model, cases[k].name, threads, ppe, &r)) {
            printf("%-55s  child failed\n", cases[k].label);
            failed = 1;
            continue;
        }
        if (!r.ok) {
            printf("%-55s  error: %s\n", cases[k].label, r.msg);
            failed = 1;
            continue;
        }
        printf("%-55s  %7.2f s wall, %7.2f s CPU, peak RSS %6.0f MB  "
               "(Captum %.1f s: x%.1f)  target %d, sum %.4g\n", cases[k].label,
               r.seconds, r.cpu_seconds, r.max_rss_kb / 1024.0,
               cases[k].captum_s, cases[k].captum_s / r.seconds, r.target,
               r.sum);
    }
    return failed;
}
