/* Intermediate results (hl_attr_partial): for every looping method on the
 * Captum tinyres case, the sequence of intermediates is well formed (done
 * rises to total, same shape as the result), its last one is the returned
 * result bit for bit, and the result equals the run without intermediates.
 * Where an independent run defines the prefix (a Riemann rule of half the
 * steps, the small Gauss-Legendre rule, the first k permutations, noise
 * samples or coalitions of a seeded run) the intermediate equals it. */
#include <math.h>

#include "attr-test-util.h"

#define MAX_KEEP 64

typedef struct record {
    int count, bad_order, bad_shape;
    int done[MAX_KEEP], total;
    double delta[MAX_KEEP];
    hl_array *est[MAX_KEEP];
    hl_shape shape;
} record;

static void on_estimate(void *user, const hl_attr_partial *e)
{
    record *r = user;
    if (r->count > 0 && e->done <= r->done[(r->count - 1) % MAX_KEEP])
        r->bad_order++;
    if (e->done < 1 || e->done > e->total || !e->unit)
        r->bad_order++;
    if (r->count > 0 && !hl_shape_equal(&r->shape, &e->attr->shape))
        r->bad_shape++;
    r->shape = e->attr->shape;
    r->total = e->total;
    if (r->count < MAX_KEEP) {
        r->done[r->count] = e->done;
        r->delta[r->count] = e->has_delta ? e->delta : 0.0;
        r->est[r->count] = hl_array_copy(e->attr);
    } else { /* keep the last in the last slot */
        hl_array_free(r->est[MAX_KEEP - 1]);
        r->est[MAX_KEEP - 1] = hl_array_copy(e->attr);
        r->done[MAX_KEEP - 1] = e->done;
        r->delta[MAX_KEEP - 1] = e->has_delta ? e->delta : 0.0;
    }
    r->count++;
}

static void record_free(record *r)
{
    for (int i = 0; i < MAX_KEEP; i++)
        hl_array_free(r->est[i]);
    memset(r, 0, sizeof *r);
}

static int last_slot(const record *r)
{
    return r->count < MAX_KEEP ? r->count - 1 : MAX_KEEP - 1;
}

static hl_array *run_progressive(const hl_model *m, const char *method,
                                 const hl_array *x, const hl_attr_params *p,
                                 record *rec, hl_attr_result *res)
{
    hl_attr_context ctx;
    memset(&ctx, 0, sizeof ctx);
    memset(rec, 0, sizeof *rec);
    ctx.threads = TEST_THREADS;
    ctx.intermediate = on_estimate;
    ctx.progress_user = rec;
    return run_attr(m, method, x, p, &ctx, res);
}

static int bit_equal(const hl_array *a, const hl_array *b)
{
    return a && b && hl_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data, sizeof(float) * (size_t)hl_shape_numel(&a->shape)) == 0;
}

/* The common checks; returns the record (caller frees) for more. */
static void check_method(const hl_model *m, const hl_array *x, const char *method,
                         const hl_attr_params *p, const char *what, record *rec)
{
    hl_attr_result plain, prog;
    hl_array *a = run_method(m, method, x, p, &plain);
    hl_array *b = run_progressive(m, method, x, p, rec, &prog);
    int last = last_slot(rec);
    tap_ok(rec->count >= 2 && !rec->bad_order && !rec->bad_shape,
           "%s (%s): %d intermediates, done rising to total", method, what, rec->count);
    tap_ok(last >= 0 && rec->done[last] == rec->total,
           "%s (%s): the last intermediate is the whole work (%d of %d)", method, what,
           last >= 0 ? rec->done[last] : -1, rec->total);
    tap_ok(last >= 0 && bit_equal(rec->est[last], b),
           "%s (%s): the last intermediate is the result bit for bit", method, what);
    double e = a && b && hl_shape_equal(&a->shape, &b->shape)
             ? tap_rel_l2(b->data, a->data, hl_shape_numel(&a->shape)) : 1.0;
    tap_ok(e <= 1e-6, "%s (%s): result with intermediates equals the one without "
           "(rel L2 %.1e%s)", method, what, e, bit_equal(a, b) ? ", bit for bit" : "");
    if (plain.has_delta)
        tap_ok(last >= 0 && rec->delta[last] == prog.delta && prog.delta == plain.delta,
               "%s (%s): the last intermediate's delta is the result's (%.3e)",
               method, what, prog.delta);
    hl_array_free(a);
    hl_array_free(b);
}

/* The intermediate after `done` units equals `method` run with params q. */
static void check_prefix(const hl_model *m, const hl_array *x, const char *method,
                         const hl_attr_params *q, const record *rec, int done,
                         double tol, const char *what)
{
    int slot = -1;
    for (int i = 0; i < rec->count && i < MAX_KEEP; i++)
        if (rec->done[i] == done)
            slot = i;
    hl_array *ref = run_method(m, method, x, q, NULL);
    double e = slot >= 0 && ref && hl_shape_equal(&ref->shape, &rec->est[slot]->shape)
             ? tap_rel_l2(rec->est[slot]->data, ref->data, hl_shape_numel(&ref->shape))
             : 1.0;
    tap_ok(e <= tol, "%s: the intermediate after %d is %s (rel L2 %.1e)", method,
           done, what, e);
    hl_array_free(ref);
}

static void path_methods(const hl_model *m, const hl_array *x, const char *layer)
{
    hl_attr_params p, q;
    record rec;
    /* Riemann left, 8 steps in batches of 4: the first batch is the
     * points 0, 2, 4, 6 of 8 = the left rule of 4 steps. */
    hl_attr_params_init(&p);
    p.target = 7;
    p.n_steps = 8;
    p.ig_method = HL_IG_RIEMANN_LEFT;
    p.internal_batch_size = 4;
    check_method(m, x, "integrated_gradients", &p, "riemann_left 8", &rec);
    q = p;
    q.n_steps = 4;
    check_prefix(m, x, "integrated_gradients", &q, &rec, 4, 1e-6,
                 "the left Riemann rule of 4 steps");
    record_free(&rec);
    /* Gauss-Legendre 64: a 2-point rule first, then the 64-point one. */
    p.ig_method = HL_IG_GAUSSLEGENDRE;
    p.n_steps = 64;
    p.internal_batch_size = 16;
    check_method(m, x, "integrated_gradients", &p, "gausslegendre 64", &rec);
    q = p;
    q.n_steps = 2;
    check_prefix(m, x, "integrated_gradients", &q, &rec, 2, 0.0,
                 "Gauss-Legendre of 2 points");
    tap_ok(rec.total == 66, "integrated_gradients: 2 + 64 steps in all (%d)", rec.total);
    record_free(&rec);
    /* Trapezoid and middle rules. */
    p.n_steps = 20;
    p.internal_batch_size = 3;
    p.ig_method = HL_IG_RIEMANN_TRAPEZOID;
    check_method(m, x, "integrated_gradients", &p, "riemann_trapezoid 20", &rec);
    record_free(&rec);
    p.ig_method = HL_IG_RIEMANN_MIDDLE;
    check_method(m, x, "integrated_gradients", &p, "riemann_middle 20", &rec);
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    snprintf(p.layer, sizeof p.layer, "%s", layer);
    p.n_steps = 40;
    p.internal_batch_size = 8;
    check_method(m, x, "layer_integrated_gradients", &p, "gausslegendre 40", &rec);
    record_free(&rec);
    check_method(m, x, "layer_conductance", &p, "gausslegendre 40", &rec);
    q = p;
    q.n_steps = 4;
    check_prefix(m, x, "layer_conductance", &q, &rec, 5, 0.0,
                 "conductance of 4 steps");
    record_free(&rec);
    p.has_neuron = 1;
    p.neuron[0] = 3;
    p.neuron[1] = 5;
    p.neuron[2] = 9;
    check_method(m, x, "neuron_integrated_gradients", &p, "gausslegendre 40", &rec);
    record_free(&rec);
    check_method(m, x, "neuron_conductance", &p, "gausslegendre 40", &rec);
    record_free(&rec);
}

static int zero_where_final_is_not(const hl_array *first, const hl_array *final)
{
    int64_t n = hl_shape_numel(&final->shape), holes = 0;
    for (int64_t i = 0; i < n; i++)
        holes += first->data[i] == 0.0f && final->data[i] != 0.0f;
    return (int)holes;
}

static void perturbation_methods(const hl_model *m, const hl_array *x)
{
    hl_attr_params p, q;
    record rec;
    hl_attr_params_init(&p);
    p.target = 7;
    int st[3] = {3, 1, 1}, win[3] = {3, 3, 3};
    memcpy(p.strides, st, sizeof st);
    memcpy(p.window, win, sizeof win);
    p.perturbations_per_eval = 8;
    check_method(m, x, "occlusion", &p, "stride 1, window 3", &rec);
    hl_array *final = rec.est[last_slot(&rec)];
    /* The first picture already covers the image (no pixel left at 0). */
    tap_ok(rec.count > 1 && rec.done[0] < rec.total &&
           zero_where_final_is_not(rec.est[0], final) == 0,
           "occlusion: the first picture (%d of %d windows) covers the whole image",
           rec.count > 1 ? rec.done[0] : -1, rec.total);
    record_free(&rec);
    int st2[3] = {3, 4, 4}, win2[3] = {3, 3, 3}; /* stride > window: gaps */
    memcpy(p.strides, st2, sizeof st2);
    memcpy(p.window, win2, sizeof win2);
    p.perturbations_per_eval = 2;
    check_method(m, x, "occlusion", &p, "stride 4 > window 3", &rec);
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    snprintf(p.feature_mask, sizeof p.feature_mask, "grid:2");
    p.perturbations_per_eval = 4;
    check_method(m, x, "feature_ablation", &p, "grid:2", &rec);
    tap_ok(rec.count > 1 && zero_where_final_is_not(rec.est[0], rec.est[last_slot(&rec)]) == 0,
           "feature_ablation: the first picture (%d of %d features) covers the image",
           rec.count > 1 ? rec.done[0] : -1, rec.total);
    record_free(&rec);

    snprintf(p.feature_mask, sizeof p.feature_mask, "grid:4");
    p.n_samples = 5;
    check_method(m, x, "shapley_value_sampling", &p, "5 permutations", &rec);
    q = p;
    q.n_samples = 2;
    check_prefix(m, x, "shapley_value_sampling", &q, &rec, 2, 0.0,
                 "the 2-permutation estimate of the same seed");
    record_free(&rec);

    p.n_samples = 40;
    check_method(m, x, "kernel_shap", &p, "40 samples", &rec);
    q = p;
    q.n_samples = 16;
    check_prefix(m, x, "kernel_shap", &q, &rec, 16, 0.0,
                 "the 16-sample fit of the same seed");
    record_free(&rec);
    check_method(m, x, "lime", &p, "40 samples", &rec);
    check_prefix(m, x, "lime", &q, &rec, 16, 0.0,
                 "the 16-sample fit of the same seed");
    record_free(&rec);
}

static void sampling_methods(const hl_model *m, const hl_array *x)
{
    hl_attr_params p, q;
    record rec;
    hl_attr_params_init(&p);
    p.target = 7;
    p.n_samples = 12;
    p.internal_batch_size = 4;
    p.stdevs = 0.1f;
    check_method(m, x, "gradient_shap", &p, "12 draws", &rec);
    record_free(&rec);
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s",
             data_path("captum/tinyres/baselines_random.npy"));
    p.internal_batch_size = 1;
    check_method(m, x, "deep_lift_shap", &p, "4 baselines", &rec);
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    p.noise_tunnel = HL_NT_SMOOTHGRAD;
    p.nt_samples = 4;
    p.nt_stdevs = 0.2f;
    check_method(m, x, "saliency", &p, "smoothgrad 4", &rec);
    q = p;
    q.nt_samples = 2;
    check_prefix(m, x, "saliency", &q, &rec, 2, 0.0,
                 "smoothgrad of the first 2 noise samples");
    record_free(&rec);
    hl_attr_params_init(&p);
    p.target = 7;
    snprintf(p.layer, sizeof p.layer, "/res/conv2/Conv_output_0");
    p.n_samples = 9;
    p.internal_batch_size = 4;
    check_method(m, x, "layer_gradient_shap", &p, "9 draws", &rec);
    record_free(&rec);
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s",
             data_path("captum/tinyres/baselines_random.npy"));
    p.internal_batch_size = 1;
    check_method(m, x, "layer_deep_lift_shap", &p, "4 baselines", &rec);
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    p.n_masks = 24;
    p.perturbations_per_eval = 8;
    check_method(m, x, "rise", &p, "24 masks", &rec);
    q = p;
    q.n_masks = 8;
    check_prefix(m, x, "rise", &q, &rec, 8, 1e-6,
                 "RISE of the first 8 masks of the same seed");
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    p.noise_tunnel = HL_NT_VARGRAD;
    p.nt_samples = 4;
    p.nt_stdevs = 0.2f;
    p.n_steps = 8;
    check_method(m, x, "integrated_gradients", &p, "vargrad of IG", &rec);
    record_free(&rec);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Elements of a whose value appears nowhere in b. */
static int values_not_in(const hl_array *a, const hl_array *b)
{
    int64_t n = hl_shape_numel(&b->shape), missing = 0;
    float *sorted = malloc(sizeof(float) * (size_t)n);
    memcpy(sorted, b->data, sizeof(float) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(float), cmp_float);
    for (int64_t i = 0; i < hl_shape_numel(&a->shape); i++)
        missing += bsearch(&a->data[i], sorted, (size_t)n, sizeof(float), cmp_float) == NULL;
    free(sorted);
    return (int)missing;
}

/* v(S) of shapley_values computed here: the target logit of the input
 * with the grid:11 squares of S kept and the others zero (the baseline);
 * the 32 x 32 tinyres input has 3 x 3 squares. */
static double coalition_logit(const hl_model *m, const hl_array *x, unsigned set, int target)
{
    const int64_t C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    float *in = calloc((size_t)(C * H * W), sizeof(float));
    for (int64_t ch = 0; ch < C; ch++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t xx = 0; xx < W; xx++) {
                int64_t o = (ch * H + y) * W + xx;
                if (set >> ((y / 11) * 3 + xx / 11) & 1u)
                    in[o] = x->data[o];
            }
    hl_run *r = hl_run_new(m, TEST_THREADS);
    hl_error err = {0};
    double v = NAN;
    if (r && hl_run_forward(r, in, 1, &err) == HL_OK)
        v = hl_run_value(r, hl_model_output_value(m), NULL)[target];
    hl_run_free(r);
    free(in);
    return v;
}

/* The methods whose intermediates came in session 4. */
static void more_methods(const hl_model *m, const hl_array *x, const char *layer)
{
    hl_attr_params p, q;
    record rec;
    /* Blur IG, 8 steps in batches of 2: the first level (steps 0, 2, 4, 6
     * of 8) is the 4-step rule (the same sigmas). */
    hl_attr_params_init(&p);
    p.target = 7;
    p.n_steps = 8;
    p.max_sigma = 6.0f;
    p.internal_batch_size = 2;
    check_method(m, x, "blur_ig", &p, "8 steps", &rec);
    q = p;
    q.n_steps = 4;
    check_prefix(m, x, "blur_ig", &q, &rec, 4, 1e-6, "blur IG of 4 steps");
    record_free(&rec);

    /* Guided IG: the first estimate credits the whole way with the
     * gradient at the baseline, i.e. IG of one left Riemann step. */
    hl_attr_params_init(&p);
    p.target = 7;
    p.n_steps = 6;
    check_method(m, x, "guided_ig", &p, "6 steps", &rec);
    {
        /* saliency (signed) at the zero baseline, times x - 0, here */
        hl_array *zero = hl_array_copy(x);
        memset(zero->data, 0, sizeof(float) * (size_t)hl_shape_numel(&x->shape));
        hl_attr_params_init(&q);
        q.target = 7;
        q.saliency_abs = 0;
        hl_array *g = run_method(m, "saliency", zero, &q, NULL);
        double e2 = 0.0, n2 = 0.0;
        for (int64_t i = 0; g && rec.count > 0 && i < hl_shape_numel(&x->shape); i++) {
            double want = (double)x->data[i] * g->data[i];
            e2 += (rec.est[0]->data[i] - want) * (rec.est[0]->data[i] - want);
            n2 += want * want;
        }
        double e = n2 > 0.0 ? sqrt(e2 / n2) : 1.0;
        tap_ok(rec.count > 0 && rec.done[0] == 1 && e <= 1e-6,
               "guided_ig: the first estimate is (x - b) times the gradient at b "
               "(rel L2 %.1e)", e);
        hl_array_free(g);
        hl_array_free(zero);
    }
    record_free(&rec);

    hl_attr_params_init(&p);
    p.target = 7;
    snprintf(p.layer, sizeof p.layer, "%s", layer);
    p.perturbations_per_eval = 3;
    check_method(m, x, "score_cam", &p, "3 per eval", &rec);
    record_free(&rec);

    /* Internal influence, Riemann left 8 in batches of 4: the first batch
     * is the 4-step rule. */
    p.n_steps = 8;
    p.ig_method = HL_IG_RIEMANN_LEFT;
    p.internal_batch_size = 4;
    check_method(m, x, "internal_influence", &p, "riemann_left 8", &rec);
    q = p;
    q.n_steps = 4;
    check_prefix(m, x, "internal_influence", &q, &rec, 4, 1e-6,
                 "internal influence of 4 left steps");
    record_free(&rec);
    p.ig_method = HL_IG_GAUSSLEGENDRE;
    p.n_steps = 20;
    p.internal_batch_size = 3;
    check_method(m, x, "internal_influence", &p, "gausslegendre 20", &rec);
    record_free(&rec);

    p.perturbations_per_eval = 5;
    check_method(m, x, "layer_feature_ablation", &p, "5 per eval", &rec);
    tap_ok(rec.count > 2 && rec.count <= HL_ATTR_EMITS + 3,
           "layer_feature_ablation: a bounded number of pictures (%d for %d elements)",
           rec.count, rec.total);
    record_free(&rec);

    p.has_neuron = 1;
    p.neuron[0] = 3;
    p.neuron[1] = 5;
    p.neuron[2] = 9;
    snprintf(p.feature_mask, sizeof p.feature_mask, "grid:4");
    p.perturbations_per_eval = 4;
    check_method(m, x, "neuron_feature_ablation", &p, "grid:4", &rec);
    /* a neuron ignores most groups (0 in the final map), so the check is
     * that every value of the first picture is a value of the final one:
     * done groups keep theirs, the others copy a done neighbour's */
    tap_ok(rec.count > 1 && rec.done[0] < rec.total &&
           values_not_in(rec.est[0], rec.est[last_slot(&rec)]) == 0,
           "neuron_feature_ablation: the first picture (%d of %d features) holds "
           "only values of the final one", rec.count > 1 ? rec.done[0] : -1, rec.total);
    record_free(&rec);
    p.n_samples = 10;
    p.internal_batch_size = 3;
    check_method(m, x, "neuron_gradient_shap", &p, "10 draws", &rec);
    record_free(&rec);
    snprintf(p.baselines_npy, sizeof p.baselines_npy, "%s",
             data_path("captum/tinyres/baselines_random.npy"));
    p.internal_batch_size = 1;
    check_method(m, x, "neuron_deep_lift_shap", &p, "4 baselines", &rec);
    record_free(&rec);

    /* Exact Shapley values of 9 squares: sizes 0, 9, 1, ... first, so the
     * first estimate (11 coalitions) is v({i}) - v({}) from logits here. */
    hl_attr_params_init(&p);
    p.target = 7;
    snprintf(p.feature_mask, sizeof p.feature_mask, "grid:11");
    p.perturbations_per_eval = 16;
    check_method(m, x, "shapley_values", &p, "9 squares", &rec);
    double empty = coalition_logit(m, x, 0u, 7), e2 = 0.0, n2 = 0.0;
    for (int f = 0; f < 9 && rec.count > 0; f++) {
        double want = coalition_logit(m, x, 1u << f, 7) - empty;
        float got = rec.est[0]->data[(f / 3) * 11 * 32 + (f % 3) * 11];
        e2 += (got - want) * (got - want);
        n2 += want * want;
    }
    tap_ok(rec.count > 2 && rec.done[0] == 11 && sqrt(e2 / n2) < 1e-5,
           "shapley_values: the first estimate (after %d coalitions) is v({i}) - v({}) "
           "(rel L2 %.1e)", rec.count > 0 ? rec.done[0] : -1, sqrt(e2 / (n2 > 0 ? n2 : 1)));
    record_free(&rec);
}

/* Perturbed inputs per forward: perturbations_per_eval within about
 * 256 MB of run (rows of the measured size). */
static void eval_batch_budget(const hl_model *m, const hl_array *x)
{
    hl_attr_params p;
    hl_attr_params_init(&p);
    p.perturbations_per_eval = 16;
    test_call t;
    call_init(&t, m, x, &p, 0);
    t.c.row_bytes = (int64_t)64 << 20;
    int big = hl_attr_eval_batch(&t.c);
    t.c.row_bytes = (int64_t)1 << 20;
    int small = hl_attr_eval_batch(&t.c);
    t.c.row_bytes = (int64_t)1 << 30;
    int huge = hl_attr_eval_batch(&t.c);
    tap_ok(big == 4 && small == 16 && huge == 1,
           "perturbations per forward: 16 asked, rows of 64 MB -> 4, 1 MB -> 16, "
           "1 GB -> 1 (got %d, %d, %d)", big, small, huge);
    call_done(&t);
}

int main(void)
{
    hl_model *m = case_model("tinyres");
    hl_array *x = case_npy("tinyres", "input");
    if (!m || !x) {
        tap_ok(0, "tinyres loads");
        return tap_done();
    }
    path_methods(m, x, "/res/conv2/Conv_output_0");
    perturbation_methods(m, x);
    sampling_methods(m, x);
    more_methods(m, x, "/res/conv2/Conv_output_0");
    eval_batch_budget(m, x);
    hl_array_free(x);
    hl_model_free(m);
    return tap_done();
}
