/* Model-randomisation sanity check (Adebayo, Gilmer, Muelly, Goodfellow,
 * Hardt and Kim, "Sanity Checks for Saliency Maps", NeurIPS 2018):
 * re-initialise the weights layer by layer from the top (cascading), redo
 * the map at each stage and compare it with the original. A map that
 * explains the model must change when the model is destroyed; one that
 * stays alike (an edge detector on the input would) is flagged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"
#include "../engine/model_randomize.h"

void hl_randomization_opts_init(hl_randomization_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stages = 6;
    o->seed = 0x5eed;
    o->flag_below = 0.5;
}

void hl_randomization_clear(hl_randomization *r)
{
    if (!r)
        return;
    for (int i = 0; i < HL_RANDOMIZATION_MAX_STAGES; i++)
        free(r->maps[i]);
    memset(r, 0, sizeof *r);
}

/* Magnitude of a map scaled to [0, 1] by its maximum (SSIM's range 1). */
static hl_status stage_map(const hl_model *m, const hl_array *input,
                           hl_map_fn fn, void *user, float **out, int *h,
                           int *w, hl_error *err)
{
    hl_array *map = NULL;
    hl_status st = fn(m, input, user, &map, err);
    if (st != HL_OK)
        return st;
    *out = hl_map_magnitude(map, h, w);
    hl_array_free(map);
    if (!*out)
        return hl_error_set(err, HL_ERR_NOMEM, "randomisation: out of memory or a map that is not 2-D");
    float mx = 0.0f;
    for (int64_t i = 0; i < (int64_t)*h * *w; i++)
        mx = (*out)[i] > mx ? (*out)[i] : mx;
    for (int64_t i = 0; mx > 0.0f && i < (int64_t)*h * *w; i++)
        (*out)[i] /= mx;
    return HL_OK;
}

static hl_status check_cancel(const hl_attr_context *ctx, double fraction,
                              hl_error *err)
{
    if (!ctx)
        return HL_OK;
    if (ctx->progress)
        ctx->progress(ctx->progress_user, fraction);
    if (ctx->cancel && *ctx->cancel)
        return hl_error_set(err, HL_ERR_CANCELLED, "randomisation check cancelled");
    return HL_OK;
}

/* Weighted nodes (topological order) into idx; returns their count. */
static int weighted_layers(const hl_model *m, int *idx, int max)
{
    int n = 0;
    for (int i = 0; i < hl_model_num_nodes(m); i++)
        if (hl_model_node_has_weights(m, i) && n < max)
            idx[n++] = i;
    return n;
}

hl_status hl_sanity_randomization_fn(const hl_model *model,
                                     const hl_array *input, hl_map_fn fn,
                                     void *user,
                                     const hl_randomization_opts *o,
                                     const hl_attr_context *ctx,
                                     hl_randomization *out, hl_error *err)
{
    memset(out, 0, sizeof *out);
    hl_randomization_opts dflt;
    if (!o) {
        hl_randomization_opts_init(&dflt);
        o = &dflt;
    }
    if (o->stages < 2 || o->stages > HL_RANDOMIZATION_MAX_STAGES)
        return hl_error_set(err, HL_ERR_ARG, "randomisation: stages %d out of range [2, %d]",
                            o->stages, HL_RANDOMIZATION_MAX_STAGES);
    if (!model || !input || !fn)
        return hl_error_set(err, HL_ERR_ARG, "randomisation: missing model, input or map");
    int n_nodes = hl_model_num_nodes(model);
    int *layers = malloc((size_t)(n_nodes ? n_nodes : 1) * sizeof *layers);
    if (!layers)
        return hl_error_set(err, HL_ERR_NOMEM, "randomisation: out of memory");
    int L = weighted_layers(model, layers, n_nodes);
    hl_model *copy = NULL;
    hl_status st = L > 0 ? HL_OK
        : hl_error_set(err, HL_ERR_ARG, "%s: no layer with weights to randomise",
                       hl_model_name(model));
    if (st == HL_OK)
        st = hl_model_copy_weights(model, &copy, err);
    if (st == HL_OK)
        st = stage_map(model, input, fn, user, &out->maps[0], &out->h, &out->w, err);
    out->total_layers = L;
    if (st == HL_OK) {
        out->n = 1;
        out->spearman[0] = 1.0;
        out->ssim[0] = 1.0;
        snprintf(out->top_layer[0], sizeof out->top_layer[0], "original");
    }
    int done = 0;
    for (int s = 1; st == HL_OK && s < o->stages; s++) {
        int want = (int)lround((double)s * L / (o->stages - 1));
        for (; st == HL_OK && done < want; done++)
            st = hl_model_randomize_node(copy, layers[L - 1 - done], o->seed, err);
        int h = 0, w = 0;
        if (st == HL_OK)
            st = stage_map(copy, input, fn, user, &out->maps[s], &h, &w, err);
        if (st == HL_OK && (h != out->h || w != out->w))
            st = hl_error_set(err, HL_ERR_SHAPE, "randomisation: the map changed size");
        if (st != HL_OK)
            break;
        hl_node_info info;
        hl_model_node_info(model, layers[L - done], &info);
        snprintf(out->top_layer[s], sizeof out->top_layer[s], "%s", info.name);
        out->layers[s] = done;
        out->spearman[s] = hl_spearman(out->maps[0], out->maps[s], (int64_t)h * w);
        out->ssim[s] = hl_ssim(out->maps[0], out->maps[s], h, w, 1.0);
        out->n = s + 1;
        st = check_cancel(ctx, (double)s / (o->stages - 1), err);
    }
    if (st == HL_OK) {
        double last = out->spearman[out->n - 1];
        out->flagged = !isnan(last) && last >= o->flag_below;
    }
    hl_model_free(copy);
    free(layers);
    if (st != HL_OK)
        hl_randomization_clear(out);
    return st;
}

typedef struct method_map {
    const char *method;
    hl_attr_params p;
    hl_attr_context ctx;
} method_map;

static hl_status attribute_map(const hl_model *model, const hl_array *input,
                               void *user, hl_array **map, hl_error *err)
{
    method_map *mm = user;
    hl_attr_result r;
    hl_status st = hl_attribute(model, mm->method, input, &mm->p, &mm->ctx, &r, err);
    if (st != HL_OK)
        return st;
    *map = r.attr;
    r.attr = NULL;
    hl_attr_result_clear(&r);
    return HL_OK;
}

hl_status hl_sanity_randomization(const hl_model *model, const hl_array *input,
                                  const char *method,
                                  const hl_attr_params *params,
                                  const hl_attr_context *ctx,
                                  const hl_randomization_opts *o,
                                  hl_randomization *out, hl_error *err)
{
    method_map mm;
    memset(&mm, 0, sizeof mm);
    mm.method = method;
    if (params)
        mm.p = *params;
    else
        hl_attr_params_init(&mm.p);
    if (mm.p.target < 0) {
        memset(out, 0, sizeof *out);
        return hl_error_set(err, HL_ERR_ARG, "randomisation: the target class must be resolved first (the randomised model's top-1 means nothing)");
    }
    if (ctx) {
        mm.ctx = *ctx;
        mm.ctx.progress = NULL;
    }
    return hl_sanity_randomization_fn(model, input, attribute_map, &mm, o, ctx,
                                      out, err);
}
