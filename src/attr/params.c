/* Parameter defaults (Captum's where Captum has one) and the descriptor
 * table that the CLI ("--n-steps 200") and the window (one widget per
 * parameter of the chosen method) are built from. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attr.h"

void hl_attr_params_init(hl_attr_params *p)
{
    memset(p, 0, sizeof *p);
    p->target = -1;                     /* top-1 class */
    strcpy(p->baseline, "zero");        /* Captum: baselines=None -> zeros */
    p->n_steps = 50;                    /* Captum IG / conductance */
    p->ig_method = HL_IG_GAUSSLEGENDRE;
    p->internal_batch_size = 0;         /* automatic, bounded memory */
    p->saliency_abs = 1;                /* Saliency abs=True */
    p->relu_attributions = 0;           /* LayerGradCam */
    p->relu_family = 0;                 /* Captum's rules only */
    p->attribute_to_layer_input = 0;
    p->interpolate = HL_INTERP_NONE;
    p->strides[0] = 3, p->strides[1] = 8, p->strides[2] = 8;
    p->window[0] = 3, p->window[1] = 15, p->window[2] = 15;
    p->perturbations_per_eval = 16;     /* only batches forwards */
    strcpy(p->feature_mask, "grid:16");
    strcpy(p->layer_mask, "units");
    p->n_samples = 0;                   /* 0 = the method's Captum default */
    p->stdevs = 0.0f;                   /* GradientShap stdevs=0.0 */
    p->noise_tunnel = HL_NT_NONE;
    p->nt_samples = 5;                  /* NoiseTunnel nt_samples=5 */
    p->nt_stdevs = 1.0f;                /* NoiseTunnel stdevs=1.0 */
    p->seed = 0x5eed;
    p->n_masks = 2000;                  /* RISE (the paper: 4000 on ResNet-50) */
    p->mask_cells = 7;                  /* RISE s = 7 */
    p->mask_prob = 0.5f;                /* RISE p = 0.5 */
    p->max_sigma = 50.0f;               /* Blur IG max_sigma (the authors' 50) */
    strcpy(p->lrp_conv, "epsilon");     /* Captum: EpsilonRule(1e-9) */
    strcpy(p->lrp_linear, "epsilon");
    strcpy(p->lrp_pool, "epsilon");
    strcpy(p->lrp_batchnorm, "epsilon");
    strcpy(p->lrp_other, "none");       /* Captum refuses ops without a rule */
}

static const char *const ig_method_choices[] = {
    "gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
    "riemann_trapezoid", NULL,
};
static const char *const interp_choices[] = { "none", "nearest", "bilinear", NULL };
static const char *const nt_choices[] = {
    "none", "smoothgrad", "smoothgrad_sq", "vargrad", NULL,
};

#define OFF(f) offsetof(hl_attr_params, f)
#define SZ(f) sizeof(((hl_attr_params *)0)->f)

/* desc + the byte size of the field (for strings). */
typedef struct param_entry {
    hl_param_desc desc;
    size_t size;
} param_entry;

static const param_entry params[] = {
    { { "target", HL_PARAM_INT, OFF(target), -1, 1e6, NULL,
        "class to explain: auto (top-1, = -1) or a class index" }, SZ(target) },
    { { "layer", HL_PARAM_LAYER, OFF(layer), 0, 0, NULL,
        "layer for layer/neuron methods: ONNX node name or value name" }, SZ(layer) },
    { { "neuron", HL_PARAM_INT3, OFF(neuron), 0, 1e6, NULL,
        "neuron of the layer as C,H,W (neuron methods; default: the centre cell, its strongest channel)" }, SZ(neuron) },
    { { "baseline", HL_PARAM_STRING, OFF(baseline), 0, 0, NULL,
        "reference input: zero | NUMBER | black | white | blur:SIGMA | uniform | FILE.npy; "
        "the *_shap methods use it as their one baseline when 'baselines' is empty" }, SZ(baseline) },
    { { "n-steps", HL_PARAM_INT, OFF(n_steps), 1, 100000, NULL,
        "integration steps of the path methods (Captum default 50)" }, SZ(n_steps) },
    { { "ig-method", HL_PARAM_ENUM, OFF(ig_method), 0, 0, ig_method_choices,
        "quadrature of the path integral (Captum default gausslegendre)" }, sizeof(int) },
    { { "internal-batch-size", HL_PARAM_INT, OFF(internal_batch_size), 0, 1e6, NULL,
        "steps per engine batch; 0 = automatic (bounded memory)" }, SZ(internal_batch_size) },
    { { "abs", HL_PARAM_BOOL, OFF(saliency_abs), 0, 1, NULL,
        "saliency: absolute value of the gradient (Captum default true)" }, SZ(saliency_abs) },
    { { "relu-attributions", HL_PARAM_BOOL, OFF(relu_attributions), 0, 1, NULL,
        "GradCAM and the other CAMs: keep only positive evidence (Captum default false)" }, SZ(relu_attributions) },
    { { "relu-family", HL_PARAM_BOOL, OFF(relu_family), 0, 1, NULL,
        "apply the guided/deconvolution rule to Clip (ReLU6) too and DeepLift's rescale rule to every elementwise activation, SiLU, GELU, Hardswish and Mish each as one (beyond Captum; default off)" }, SZ(relu_family) },
    { { "attribute-to-layer-input", HL_PARAM_BOOL, OFF(attribute_to_layer_input), 0, 1, NULL,
        "use the layer's input instead of its output" }, SZ(attribute_to_layer_input) },
    { { "interpolate", HL_PARAM_ENUM, OFF(interpolate), 0, 0, interp_choices,
        "upsample a layer map to the input size (Captum's interpolate default mode: nearest)" }, sizeof(int) },
    { { "strides", HL_PARAM_INT3, OFF(strides), 1, 4096, NULL,
        "occlusion strides C,H,W" }, SZ(strides) },
    { { "window", HL_PARAM_INT3, OFF(window), 1, 4096, NULL,
        "occlusion sliding window shape C,H,W (Captum: sliding_window_shapes)" }, SZ(window) },
    { { "perturbations-per-eval", HL_PARAM_INT, OFF(perturbations_per_eval), 1, 4096, NULL,
        "perturbed copies per engine batch (speed only)" }, SZ(perturbations_per_eval) },
    { { "feature-mask", HL_PARAM_STRING, OFF(feature_mask), 0, 0, NULL,
        "feature groups: grid:N (N-pixel squares) | cells:N (N x N cells) | slic:K | FILE.npy of integer ids" }, SZ(feature_mask) },
    { { "layer-mask", HL_PARAM_STRING, OFF(layer_mask), 0, 0, NULL,
        "layer_feature_ablation: which layer elements are ablated together: units (each on its own, "
        "Captum's default: one forward of the layers after it per unit, minutes on a large layer) | "
        "channels (each channel's units together, as Captum's layer_mask of shape [1,C,1,1]: one "
        "forward per channel) | FILE.npy of integer ids broadcast to the layer's shape (Captum: layer_mask)" }, SZ(layer_mask) },
    { { "n-samples", HL_PARAM_INT, OFF(n_samples), 0, 1e6, NULL,
        "random samples the method averages (draws, permutations or perturbed copies); "
        "0 = Captum's default: 5 for the gradient_shap methods, 25 for shapley_value_sampling, lime and kernel_shap" }, SZ(n_samples) },
    { { "stdevs", HL_PARAM_FLOAT, OFF(stdevs), 0, 1e3, NULL,
        "the gradient_shap methods: standard deviation of the input noise (Captum default 0)" }, SZ(stdevs) },
    { { "baselines", HL_PARAM_STRING, OFF(baselines_npy), 0, 0, NULL,
        "the *_shap methods: a set of K reference inputs, FILE.npy [K,C,H,W]; each sample draws one "
        "(gradient_shap) or the map averages over all (deep_lift_shap); empty = the one 'baseline'" }, SZ(baselines_npy) },
    { { "noise-tunnel", HL_PARAM_ENUM, OFF(noise_tunnel), 0, 0, nt_choices,
        "wrap a gradient method in Captum's NoiseTunnel (Captum: nt_type)" }, sizeof(int) },
    { { "nt-samples", HL_PARAM_INT, OFF(nt_samples), 1, 100000, NULL,
        "noise tunnel samples (Captum default 5)" }, SZ(nt_samples) },
    { { "nt-stdevs", HL_PARAM_FLOAT, OFF(nt_stdevs), 0, 1e3, NULL,
        "noise tunnel noise standard deviation, absolute (Captum default 1.0)" }, SZ(nt_stdevs) },
    { { "seed", HL_PARAM_U64, OFF(seed), 0, 0, NULL,
        "seed of every random choice" }, SZ(seed) },
    { { "n-masks", HL_PARAM_INT, OFF(n_masks), 1, 1e6, NULL,
        "rise: number of random masks (default 2000)" }, SZ(n_masks) },
    { { "mask-cells", HL_PARAM_INT, OFF(mask_cells), 1, 4096, NULL,
        "rise: mask grid cells per side before upsampling (default 7)" }, SZ(mask_cells) },
    { { "mask-prob", HL_PARAM_FLOAT, OFF(mask_prob), 0.01, 1, NULL,
        "rise: probability that a mask cell keeps the input (default 0.5)" }, SZ(mask_prob) },
    { { "max-sigma", HL_PARAM_FLOAT, OFF(max_sigma), 0.01, 1e4, NULL,
        "blur_ig: standard deviation of the most blurred image, pixels (default 50)" }, SZ(max_sigma) },
#define LRP_RULES "epsilon[:E] (E default 1e-9) | gamma[:G] (G default 0.25) | alpha1beta0 | z+ | identity"
    { { "lrp-conv", HL_PARAM_STRING, OFF(lrp_conv), 0, 0, NULL,
        "LRP rule on Conv: " LRP_RULES " (Captum default epsilon)" }, SZ(lrp_conv) },
    { { "lrp-linear", HL_PARAM_STRING, OFF(lrp_linear), 0, 0, NULL,
        "LRP rule on Gemm/MatMul (Linear): " LRP_RULES " (Captum default epsilon)" }, SZ(lrp_linear) },
    { { "lrp-pool", HL_PARAM_STRING, OFF(lrp_pool), 0, 0, NULL,
        "LRP rule on MaxPool, AveragePool, GlobalAveragePool: " LRP_RULES " (Captum default epsilon)" }, SZ(lrp_pool) },
    { { "lrp-batchnorm", HL_PARAM_STRING, OFF(lrp_batchnorm), 0, 0, NULL,
        "LRP rule on BatchNormalization: " LRP_RULES " (Captum default epsilon)" }, SZ(lrp_batchnorm) },
    { { "lrp-other", HL_PARAM_STRING, OFF(lrp_other), 0, 0, NULL,
        "LRP rule on ops Captum has no rule for (Add, Clip, ...): none (refuse, as Captum) | " LRP_RULES }, SZ(lrp_other) },
};

#define N_PARAMS ((int)(sizeof params / sizeof params[0]))

int hl_param_n_samples_default(const char *method)
{
    /* the methods' own fallbacks for n_samples <= 0 (shap.c, perturbation.c,
     * surrogate.c), Captum 0.7's signature defaults; test-attr-units runs
     * each method with 0 and with this number and compares */
    static const struct { const char *method; int n; } defaults[] = {
        { "gradient_shap", 5 }, { "layer_gradient_shap", 5 }, { "neuron_gradient_shap", 5 },
        { "shapley_value_sampling", 25 }, { "lime", 25 }, { "kernel_shap", 25 },
    };
    for (size_t i = 0; method && i < sizeof defaults / sizeof defaults[0]; i++)
        if (strcmp(method, defaults[i].method) == 0)
            return defaults[i].n;
    return 0;
}

const char *hl_param_value_name(const char *method, const hl_param_desc *d,
                                double value, char *buf, size_t size)
{
    if (!d || value != 0 || size == 0)
        return NULL;
    if (strcmp(d->name, "n-samples") == 0) {
        int n = hl_param_n_samples_default(method);
        if (n > 0)
            snprintf(buf, size, "default (%d)", n);
        else
            snprintf(buf, size, "default");
        return buf;
    }
    if (strcmp(d->name, "internal-batch-size") == 0) {
        snprintf(buf, size, "automatic");
        return buf;
    }
    if (strcmp(d->name, "baselines") == 0) {   /* (an empty string) */
        snprintf(buf, size, "none: the one Baseline");
        return buf;
    }
    return NULL;
}

int hl_param_count(void)
{
    return N_PARAMS;
}

const hl_param_desc *hl_param_get(int index)
{
    return index >= 0 && index < N_PARAMS ? &params[index].desc : NULL;
}

/* Captum's argument names where ours differ, so that a user coming from
 * Captum can type either (underscores work too, see below). */
static const struct {
    const char *captum, *ours;
} captum_aliases[] = {
    {"sliding-window-shapes", "window"},
    {"nt-type", "noise-tunnel"},
};

/* `given` spells `dashed` ("n-steps") with dashes or underscores. */
static int same_param_name(const char *dashed, const char *given)
{
    while (*dashed && *given && (*dashed == *given || (*dashed == '-' && *given == '_')))
        dashed++, given++;
    return !*dashed && !*given;
}

const hl_param_desc *hl_param_find(const char *name)
{
    if (!name)
        return NULL;
    while (name[0] == '-')
        name++;
    for (size_t i = 0; i < sizeof captum_aliases / sizeof captum_aliases[0]; i++)
        if (same_param_name(captum_aliases[i].captum, name)) {
            name = captum_aliases[i].ours;
            break;
        }
    for (int i = 0; i < N_PARAMS; i++)
        if (same_param_name(params[i].desc.name, name))
            return &params[i].desc;
    return NULL;
}

static size_t field_size(const hl_param_desc *d)
{
    for (int i = 0; i < N_PARAMS; i++)
        if (&params[i].desc == d || strcmp(params[i].desc.name, d->name) == 0)
            return params[i].size;
    return 0;
}

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *skip_space(end))
        return 0;
    *out = v;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "true", "1", "yes", "on", NULL };
    static const char *const no[] = { "false", "0", "no", "off", NULL };
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 1;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 1;
    return 0;
}

static hl_status range_error(const hl_param_desc *d, const char *value,
                             hl_error *err)
{
    return hl_error_set(err, HL_ERR_ARG, "--%s: '%s' is not %s in [%g, %g]",
                        d->name, value,
                        d->type == HL_PARAM_FLOAT ? "a number" : "an integer",
                        d->min, d->max);
}

hl_status hl_param_set(hl_attr_params *p, const hl_param_desc *d,
                       const char *value, hl_error *err)
{
    if (!p || !d || !value)
        return hl_error_set(err, HL_ERR_ARG, "hl_param_set: missing argument");
    char *field = (char *)p + d->offset;
    value = skip_space(value);

    switch (d->type) {
    case HL_PARAM_INT: {
        long v;
        if (strcmp(d->name, "target") == 0 && strcasecmp(value, "auto") == 0) {
            *(int *)field = -1;
            return HL_OK;
        }
        if (!parse_long(value, &v) || v < d->min || v > d->max)
            return range_error(d, value, err);
        *(int *)field = (int)v;
        return HL_OK;
    }
    case HL_PARAM_FLOAT: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *skip_space(end) || !isfinite(v) ||
            v < d->min || v > d->max)
            return range_error(d, value, err);
        *(float *)field = (float)v;
        return HL_OK;
    }
    case HL_PARAM_BOOL: {
        int v;
        if (!parse_bool(value, &v))
            return hl_error_set(err, HL_ERR_ARG,
                                "--%s: '%s' is not a boolean (true|false|yes|no|on|off|1|0)",
                                d->name, value);
        *(int *)field = v;
        return HL_OK;
    }
    case HL_PARAM_STRING:
    case HL_PARAM_LAYER: {
        size_t size = field_size(d), len = strlen(value);
        if (size == 0 || len >= size)
            return hl_error_set(err, HL_ERR_ARG, "--%s: value longer than %zu characters",
                                d->name, size ? size - 1 : 0);
        memcpy(field, value, len + 1);
        return HL_OK;
    }
    case HL_PARAM_ENUM: {
        for (int i = 0; d->choices && d->choices[i]; i++)
            if (strcasecmp(value, d->choices[i]) == 0) {
                *(int *)field = i;
                return HL_OK;
            }
        char list[256] = "";
        for (int i = 0; d->choices && d->choices[i]; i++) {
            if (i)
                strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, d->choices[i], sizeof list - strlen(list) - 1);
        }
        return hl_error_set(err, HL_ERR_ARG, "--%s: unknown value '%s' (valid: %s)",
                            d->name, value, list);
    }
    case HL_PARAM_INT3: {
        long v[3];
        const char *s = value;
        for (int i = 0; i < 3; i++) {
            char *end;
            errno = 0;
            v[i] = strtol(s, &end, 10);
            if (errno || end == s || v[i] < d->min || v[i] > d->max)
                return hl_error_set(err, HL_ERR_ARG,
                                    "--%s: '%s' is not three integers C,H,W in [%g, %g]",
                                    d->name, value, d->min, d->max);
            s = skip_space(end);
            if (i < 2) {
                if (*s != ',' && *s != 'x')
                    return hl_error_set(err, HL_ERR_ARG,
                                        "--%s: '%s' is not three integers C,H,W",
                                        d->name, value);
                s++;
            }
        }
        if (*s)
            return hl_error_set(err, HL_ERR_ARG, "--%s: trailing text in '%s'", d->name, value);
        for (int i = 0; i < 3; i++)
            ((int *)field)[i] = (int)v[i];
        if (strcmp(d->name, "neuron") == 0)
            p->has_neuron = 1;
        return HL_OK;
    }
    case HL_PARAM_U64: {
        char *end;
        errno = 0;
        if (value[0] == '-')
            return hl_error_set(err, HL_ERR_ARG, "--%s: '%s' is not a non-negative integer",
                                d->name, value);
        unsigned long long v = strtoull(value, &end, 0);
        if (errno || end == value || *skip_space(end))
            return hl_error_set(err, HL_ERR_ARG, "--%s: '%s' is not a non-negative integer",
                                d->name, value);
        *(uint64_t *)field = (uint64_t)v;
        return HL_OK;
    }
    }
    return hl_error_set(err, HL_ERR_ARG, "--%s: unknown parameter type", d->name);
}

void hl_param_format(const hl_attr_params *p, const hl_param_desc *d,
                     char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    buf[0] = '\0';
    if (!p || !d)
        return;
    const char *field = (const char *)p + d->offset;
    switch (d->type) {
    case HL_PARAM_INT:
        if (strcmp(d->name, "target") == 0 && *(const int *)field < 0)
            snprintf(buf, size, "auto");
        else
            snprintf(buf, size, "%d", *(const int *)field);
        break;
    case HL_PARAM_FLOAT:
        snprintf(buf, size, "%g", (double)*(const float *)field);
        break;
    case HL_PARAM_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "true" : "false");
        break;
    case HL_PARAM_STRING:
    case HL_PARAM_LAYER:
        snprintf(buf, size, "%s", field);
        break;
    case HL_PARAM_ENUM: {
        int v = *(const int *)field, n = 0;
        while (d->choices && d->choices[n])
            n++;
        snprintf(buf, size, "%s", v >= 0 && v < n ? d->choices[v] : "?");
        break;
    }
    case HL_PARAM_INT3: {
        const int *v = (const int *)field;
        if (strcmp(d->name, "neuron") == 0 && !p->has_neuron)
            snprintf(buf, size, "none");
        else
            snprintf(buf, size, "%d,%d,%d", v[0], v[1], v[2]);
        break;
    }
    case HL_PARAM_U64:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)field);
        break;
    }
}
