/* The per-node profiler of a run: HL_PROFILE=1 (wall time),
 * HL_PROFILE=cpu (CPU time of the calling thread, meaningful with one
 * thread on a busy machine) or HL_PROFILE=process (CPU time of the whole
 * process: with several threads, the work plus what the pool spends
 * waiting and waking, per node) makes every run print, when freed, its
 * per-node forward and backward times on stderr, slowest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run_internal.h"

void hl_run_profile_init(hl_run *r)
{
    const char *prof = getenv("HL_PROFILE");
    r->prof_clock = !prof                         ? CLOCK_MONOTONIC
                    : strcmp(prof, "cpu") == 0     ? CLOCK_THREAD_CPUTIME_ID
                    : strcmp(prof, "process") == 0 ? CLOCK_PROCESS_CPUTIME_ID
                                                   : CLOCK_MONOTONIC;
    if (prof && prof[0] && strcmp(prof, "0") != 0) {
        r->prof_fwd = calloc((size_t)r->m->n_nodes + 1, sizeof *r->prof_fwd);
        r->prof_bwd = calloc((size_t)r->m->n_nodes + 1, sizeof *r->prof_bwd);
    }
}

double hl_run_profile_now(const hl_run *r)
{
    struct timespec ts;
    clock_gettime(r->prof_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Per-node table of a profiled run, slowest first, on stderr. */
void hl_run_profile_print(const hl_run *r)
{
    const hl_model *m = r->m;
    int n = m->n_nodes;
    int *order = malloc(sizeof *order * (size_t)(n + 1));
    if (!order)
        return;
    double total_f = 0, total_b = 0;
    for (int k = 0; k < n; k++) {
        order[k] = k;
        total_f += r->prof_fwd[k];
        total_b += r->prof_bwd[k];
    }
    for (int i = 1; i < n; i++) /* insertion sort by forward + backward */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            if (r->prof_fwd[a] + r->prof_bwd[a] >= r->prof_fwd[b] + r->prof_bwd[b])
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    double fw = r->prof_forwards ? 1e3 / (double)r->prof_forwards : 0;
    double bw = r->prof_backwards ? 1e3 / (double)r->prof_backwards : 0;
    fprintf(stderr, "HL_PROFILE %s, batch %d, %d threads, %ld forwards, "
            "%ld backwards (ms per call, %s)\n", m->name, r->batch, r->threads,
            r->prof_forwards, r->prof_backwards,
            r->prof_clock == CLOCK_MONOTONIC           ? "wall"
            : r->prof_clock == CLOCK_THREAD_CPUTIME_ID ? "CPU of the caller"
                                                       : "CPU of the process");
    fprintf(stderr, "  forward total %.3f  backward total %.3f  "
            "(of which clearing gradients %.3f)\n", total_f * fw,
            total_b * bw, r->prof_clear * bw);
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (r->prof_fwd[k] + r->prof_bwd[k] <= 0)
            continue;
        char shape[128] = "";
        const hl_node *nd = &m->nodes[k];
        if (nd->out[0] >= 0 && r->planned)
            hl_shape_format(&r->plan.t[nd->out[0]].shape, shape, sizeof shape);
        fprintf(stderr, "  %8.3f %8.3f  %-18s %-40s %s\n", r->prof_fwd[k] * fw,
                r->prof_bwd[k] * bw, nd->op_type, nd->name, shape);
    }
    free(order);
}
