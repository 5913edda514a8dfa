/* Lean runs (hl_run_keep_only): buffers shared by liveness and Relu/Clip
 * backward from bit masks must not change a single number. For every
 * float value v the attribution methods could read as a layer (every
 * dynamic value, aliases and pre-BN values of folded convs included), a
 * run that keeps only v is compared bit for bit with a default run that
 * keeps everything:
 *   - v's value after forward;
 *   - v's gradient and the input gradient after backward from the output
 *     under the gradient, guided and deconvolution rules, all three after
 *     one forward (several backwards per forward);
 *   - the input gradient of a backward seeded at v itself (neuron methods);
 *   - for some v, an override at v (layer IG, conductance): the logits and
 *     the gradient at v.
 * Plus the documented refusals (backward from a value not kept, DeepLift),
 * NULL for values not kept, and a lean block smaller than the default one.
 *
 * Models: the small torchvision-style CNNs of tests/data/models/, the
 * Captum cases of tests/data/captum/ (tinyres with BatchNormalization
 * folded: pre-BN values) and the bundled MobileNet V2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tap.h"

static char src_root[3000];

/* deterministic values in [-1, 1) */
static void fill(float *x, size_t n, unsigned long long seed)
{
    unsigned long long s = seed * 6364136223846793005ULL + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((s >> 40) * (1.0 / 8388608.0)) - 1.0f;
    }
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return a && b && memcmp(a, b, n * sizeof(float)) == 0;
}

static size_t numel_at(const hl_run *r, int v)
{
    const hl_tensor *t = hl_run_tensor(r, v);
    return t ? (size_t)hl_shape_numel(&t->shape) : 0;
}

static const hl_backward_rule rules[3] = {
    HL_RULE_GRADIENT, HL_RULE_GUIDED, HL_RULE_DECONV,
};
static const char *const rule_names[3] = { "gradient", "guided", "deconv" };

/* Per rule, the default run's gradient of every value (NULL if not
 * reached) and of the input, after backward from the output with `seed`. */
typedef struct full_grads {
    float **g[3];
} full_grads;

static int check_model(const char *path, const char *label, int batch,
                       int override_every)
{
    hl_model *m = NULL;
    hl_error err = {0};
    if (!tap_ok(hl_model_load_onnx(path, &m, &err) == HL_OK, "%s: load: %s",
                label, err.msg[0] ? err.msg : "ok"))
        return 0;
    hl_shape is;
    hl_model_input_shape(m, &is);
    is.dims[0] = batch;
    size_t in_n = (size_t)hl_shape_numel(&is);
    float *input = malloc(in_n * sizeof(float));
    fill(input, in_n, 7);
    int out = hl_model_output_value(m);
    int nv = m->n_values;

    hl_run *full = hl_run_new(m, 2), *lean = hl_run_new(m, 2);
    hl_status st = hl_run_forward(full, input, batch, &err);
    tap_ok(st == HL_OK, "%s: default forward: %s", label, st ? err.msg : "ok");
    size_t out_n = numel_at(full, out);
    float *seed = malloc(out_n * sizeof(float));
    fill(seed, out_n, 11);
    full_grads fg;
    int rules_ok = 1;
    for (int ri = 0; ri < 3; ri++) {
        fg.g[ri] = calloc((size_t)nv, sizeof(float *));
        st = hl_run_backward(full, out, seed, rules[ri], NULL, &err);
        rules_ok &= st == HL_OK;
        for (int v = 0; v < nv; v++) {
            const float *g = hl_run_grad(full, v, NULL);
            if (!g)
                continue;
            size_t n = numel_at(full, v);
            fg.g[ri][v] = malloc(n * sizeof(float));
            memcpy(fg.g[ri][v], g, n * sizeof(float));
        }
    }
    tap_ok(rules_ok, "%s: default backward, 3 rules", label);
    int in_v = m->inputs[0];

    /* keep nothing extra: input gradient, refusals, block size */
    {
        st = hl_run_keep_only(lean, NULL, 0, &err);
        st = st ? st : hl_run_forward(lean, input, batch, &err);
        int ok = st == HL_OK && same_bits(hl_run_value(lean, out, NULL),
                                          hl_run_value(full, out, NULL), out_n);
        for (int ri = 0; ok && ri < 3; ri++)
            ok = hl_run_backward(lean, out, seed, rules[ri], NULL, &err) ==
                     HL_OK &&
                 same_bits(hl_run_input_grad(lean), fg.g[ri][in_v], in_n);
        tap_ok(ok, "%s: keep nothing: logits and input gradients (3 rules) "
               "identical", label);
        size_t lb = hl_run_memory_bytes(lean), fb = hl_run_memory_bytes(full);
        tap_ok(lb > 0 && lb < fb, "%s: lean block %.2f MB < default %.2f MB",
               label, lb / 1e6, fb / 1e6);
        int hidden = -1;
        for (int v = 0; v < nv && hidden < 0; v++)
            if (m->values[v].kind == HL_VAL_DYNAMIC && v != out && v != in_v &&
                m->values[v].alias < 0 && m->dtype1[v] == HL_DT_FLOAT &&
                hl_model_resolve(m, out) != v)
                hidden = v;
        if (hidden >= 0) {
            float *s1 = calloc(numel_at(full, hidden), sizeof(float));
            tap_ok(!hl_run_value(lean, hidden, NULL) &&
                       !hl_run_grad(lean, hidden, NULL) &&
                       hl_run_backward(lean, hidden, s1, HL_RULE_GRADIENT,
                                       NULL, &err) == HL_ERR_ARG,
                   "%s: value '%s' not kept: no value, no gradient, no "
                   "backward from it", label, m->values[hidden].name);
            free(s1);
        }
        tap_ok(hl_run_backward(lean, out, seed, HL_RULE_DEEPLIFT, full,
                               &err) == HL_ERR_ARG,
               "%s: DeepLift refused on a lean run", label);
    }

    int n_checked = 0, bad_value = 0, bad_grad = 0, bad_from = 0,
        bad_override = 0, n_override = 0;
    char first_bad[1200] = "";
    for (int v = 0; v < nv; v++) {
        if (m->values[v].kind != HL_VAL_DYNAMIC || m->dtype1[v] != HL_DT_FLOAT)
            continue;
        const float *fv = hl_run_value(full, v, NULL);
        size_t n = numel_at(full, v);
        if (!fv || !n)
            continue;
        n_checked++;
        int bad = 0;
        st = hl_run_keep_only(lean, &v, 1, &err);
        st = st ? st : hl_run_forward(lean, input, batch, &err);
        if (st || !same_bits(hl_run_value(lean, v, NULL), fv, n)) {
            bad_value++;
            bad = 1;
        }
        for (int ri = 0; ri < 3 && !st; ri++) {
            st = hl_run_backward(lean, out, seed, rules[ri], NULL, &err);
            const float *g = hl_run_grad(lean, v, NULL);
            int same_v = fg.g[ri][v] ? same_bits(g, fg.g[ri][v], n) : g == NULL;
            if (st || !same_v ||
                !same_bits(hl_run_input_grad(lean), fg.g[ri][in_v], in_n)) {
                bad_grad++;
                bad = 1;
                break;
            }
        }
        /* neuron methods: backward seeded at v */
        if (!st && fg.g[0][v]) {
            float *sv = malloc(n * sizeof(float));
            fill(sv, n, 13 + (unsigned long long)v);
            hl_status a = hl_run_backward(full, v, sv, HL_RULE_GRADIENT, NULL,
                                          &err);
            hl_status b = hl_run_backward(lean, v, sv, HL_RULE_GRADIENT, NULL,
                                          &err);
            if (a || b || !same_bits(hl_run_input_grad(lean),
                                     hl_run_input_grad(full), in_n)) {
                bad_from++;
                bad = 1;
            }
            free(sv);
        }
        /* layer IG / conductance: an override at v */
        if (override_every > 0 && n_checked % override_every == 0 &&
            fg.g[0][v]) {
            float *ov = malloc(n * sizeof(float));
            for (size_t i = 0; i < n; i++)
                ov[i] = 0.5f * fv[i] + 0.25f;
            n_override++;
            hl_run *fo = hl_run_new(m, 2);
            int ok = fo && hl_run_set_override(fo, v, ov, &err) == HL_OK &&
                     hl_run_set_override(lean, v, ov, &err) == HL_OK &&
                     hl_run_forward(fo, input, batch, &err) == HL_OK &&
                     hl_run_forward(lean, input, batch, &err) == HL_OK &&
                     same_bits(hl_run_value(lean, out, NULL),
                               hl_run_value(fo, out, NULL), out_n) &&
                     hl_run_backward(fo, out, seed, HL_RULE_GRADIENT, NULL,
                                     &err) == HL_OK &&
                     hl_run_backward(lean, out, seed, HL_RULE_GRADIENT, NULL,
                                     &err) == HL_OK &&
                     same_bits(hl_run_grad(lean, v, NULL),
                               hl_run_grad(fo, v, NULL), n);
            if (!ok) {
                bad_override++;
                bad = 1;
            }
            hl_run_clear_overrides(lean);
            hl_run_free(fo);
            free(ov);
        }
        if (bad && !first_bad[0])
            snprintf(first_bad, sizeof first_bad, " (first: '%s'%s%s)",
                     m->values[v].name, st ? ": " : "", st ? err.msg : "");
    }
    tap_ok(n_checked > 0 && bad_value == 0,
           "%s: %d values kept alone read the same as in the default run%s",
           label, n_checked, bad_value ? first_bad : "");
    tap_ok(bad_grad == 0,
           "%s: their gradients and the input gradient, 3 rules after one "
           "forward, identical%s", label, bad_grad ? first_bad : "");
    tap_ok(bad_from == 0,
           "%s: backward seeded at each of them: identical input gradients%s",
           label, bad_from ? first_bad : "");
    if (override_every > 0)
        tap_ok(bad_override == 0,
               "%s: %d overrides: identical logits and gradients at the "
               "overridden value%s", label, n_override,
               bad_override ? first_bad : "");

    for (int ri = 0; ri < 3; ri++) {
        for (int v = 0; v < nv; v++)
            free(fg.g[ri][v]);
        free(fg.g[ri]);
    }
    (void)rule_names;
    free(seed);
    free(input);
    hl_run_free(full);
    hl_run_free(lean);
    hl_model_free(m);
    return 1;
}

int main(void)
{
    hl_engine_init();
    const char *src = getenv("HL_SOURCE_ROOT");
    snprintf(src_root, sizeof src_root, "%s", src ? src : ".");
    static const char *const captum[] = { "tinycnn", "tinyres",
                                          "tinyres_default_export" };
    char path[3400];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/tests/data/captum/%s/model.onnx",
                 src_root, captum[i]);
        check_model(path, captum[i], 3, 1);
    }
    static const char *const models[] = {
        "tiny_convnext_op13", "tiny_convnext_op17", "tiny_densenet",
        "tiny_efficientnet", "tiny_mobilenet_v3", "tiny_shufflenet",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        snprintf(path, sizeof path, "%s/tests/data/models/%s.onnx", src_root,
                 models[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            tap_skip("%s: not in tests/data/models", models[i]);
            continue;
        }
        fclose(f);
        check_model(path, models[i], 2, 3);
    }
    snprintf(path, sizeof path, "%s/data/models/mobilenet_v2.onnx", src_root);
    check_model(path, "mobilenet_v2 (bundled)", 1, 10);
    return tap_done();
}
