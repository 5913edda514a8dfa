/* bench-method: time one attribution method called several times in one
 * process, the model loaded once, as Captum is timed (a warm call, then
 * the median of repeated calls):
 *
 *   bench-method --method NAME [--model FILE.onnx] [--input-npy FILE.npy]
 *                [--threads N] [--calls N] [--stop-after S]
 *                [--PARAM VALUE ...]
 *
 * PARAM is any method parameter of `heatlens-cli explain` (--target 1,
 * --n-steps 200, --layer NAME, ...). Prints the first (cold) call and the
 * median and minimum of the others (warm), each as wall and process CPU
 * seconds, the peak RSS, and the attribution's sum (to check that every
 * call gives the same map). The input defaults to a fixed pseudo-random
 * image. --stop-after S cancels one call after S seconds of wall time and
 * prints the fraction done and the whole call's time projected from it
 * (for calls of many minutes whose work is spread evenly, e.g.
 * layer_feature_ablation's coarse-to-fine units). Not a test: no
 * thresholds; it prints numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "attr.h"
#include "npy.h"
#include "bench-clock.h"

#ifndef HL_SOURCE_ROOT
#define HL_SOURCE_ROOT "."
#endif

#define MAX_CALLS 200

/* --stop-after: the cancel flag raised after `limit` seconds. */
typedef struct stopper {
    double t0, limit, fraction;
    volatile int cancel;
} stopper;

static void on_progress(void *user, double fraction)
{
    stopper *s = user;
    s->fraction = fraction;
    if (now() - s->t0 > s->limit)
        s->cancel = 1;
}

static int stop_after(const hl_model *m, const char *method, const hl_array *x,
                      const hl_attr_params *p, int threads, double limit)
{
    stopper s = { now(), limit, 0.0, 0 };
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = threads;
    ctx.progress = on_progress;
    ctx.progress_user = &s;
    ctx.cancel = &s.cancel;
    hl_attr_result r;
    hl_error err = {0};
    double c0 = cpu_now();
    hl_status st = hl_attribute(m, method, x, p, &ctx, &r, &err);
    double wall = now() - s.t0, cpu = cpu_now() - c0;
    if (st == HL_OK)
        hl_attr_result_clear(&r);
    else if (st != HL_ERR_CANCELLED) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double f = st == HL_OK ? 1.0 : s.fraction;
    printf("%s: %s after %.2f s wall %.2f s CPU at %.4f done; whole call "
           "projected %.1f s wall %.1f s CPU\n", method,
           st == HL_OK ? "finished" : "stopped", wall, cpu, f,
           f > 0 ? wall / f : 0.0, f > 0 ? cpu / f : 0.0);
    return 0;
}

static void fill_input(float *x, size_t n)
{
    unsigned long long s = 0x5eedULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
    }
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --method NAME [--model FILE.onnx] "
            "[--input-npy FILE.npy] [--threads N] [--calls N] [--stop-after S] "
            "[--PARAM VALUE ...]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    hl_engine_init();
    const char *model_path = HL_SOURCE_ROOT "/data/models/mobilenet_v2.onnx";
    const char *method = NULL, *npy = NULL;
    int threads = 0, calls = 5;
    double stop = 0;
    hl_attr_params p;
    hl_attr_params_init(&p);
    hl_error err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc || strncmp(a, "--", 2) != 0)
            return usage(argv[0]);
        const char *v = argv[++i];
        if (strcmp(a, "--method") == 0)
            method = v;
        else if (strcmp(a, "--model") == 0)
            model_path = v;
        else if (strcmp(a, "--input-npy") == 0)
            npy = v;
        else if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--calls") == 0)
            calls = atoi(v);
        else if (strcmp(a, "--stop-after") == 0)
            stop = atof(v);
        else {
            const hl_param_desc *d = hl_param_find(a + 2);
            if (!d) {
                fprintf(stderr, "%s: no parameter %s\n", argv[0], a);
                return 2;
            }
            if (hl_param_set(&p, d, v, &err) != HL_OK) {
                fprintf(stderr, "%s: %s\n", argv[0], err.msg);
                return 2;
            }
        }
    }
    if (!method || calls < 1 || calls > MAX_CALLS)
        return usage(argv[0]);

    hl_model *m = NULL;
    if (hl_model_load_onnx(model_path, &m, &err) != HL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hl_array *x = NULL;
    if (npy) {
        if (hl_npy_read(npy, &x, &err) != HL_OK) {
            fprintf(stderr, "%s\n", err.msg);
            hl_model_free(m);
            return 1;
        }
    } else {
        hl_shape s;
        hl_model_input_shape(m, &s);
        s.dims[0] = 1;
        x = hl_array_new(&s);
        fill_input(x->data, (size_t)hl_shape_numel(&s));
    }
    if (stop > 0) {
        int rc = stop_after(m, method, x, &p, threads, stop);
        hl_array_free(x);
        hl_model_free(m);
        return rc;
    }
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.threads = threads;
    double wall[MAX_CALLS], cpu[MAX_CALLS], sum0 = 0;
    int same = 1, target = -1;
    for (int c = 0; c < calls; c++) {
        hl_attr_result r;
        double t0 = now(), c0 = cpu_now();
        hl_status st = hl_attribute(m, method, x, &p, &ctx, &r, &err);
        wall[c] = now() - t0;
        cpu[c] = cpu_now() - c0;
        if (st != HL_OK) {
            fprintf(stderr, "%s\n", err.msg);
            hl_array_free(x);
            hl_model_free(m);
            return 1;
        }
        double sum = 0;
        for (int64_t i = 0; i < hl_shape_numel(&r.attr->shape); i++)
            sum += r.attr->data[i];
        if (c == 0) {
            sum0 = sum;
            target = r.target;
        } else if (sum != sum0) {
            same = 0;
        }
        hl_attr_result_clear(&r);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: first %.4f s wall %.4f s CPU", method, wall[0], cpu[0]);
    if (calls > 1) {
        double w1 = wall[1], c1 = cpu[1];
        for (int c = 2; c < calls; c++) {
            if (wall[c] < w1)
                w1 = wall[c];
            if (cpu[c] < c1)
                c1 = cpu[c];
        }
        printf("; warm median %.4f s wall %.4f s CPU (min %.4f / %.4f)",
               median(wall + 1, calls - 1), median(cpu + 1, calls - 1), w1, c1);
    }
    printf("; peak RSS %.1f MiB; target %d, sum %.6g%s\n",
           ru.ru_maxrss / 1024.0, target, sum0,
           same ? "" : " (CALLS DIFFER)");
    hl_array_free(x);
    hl_model_free(m);
    return 0;
}
