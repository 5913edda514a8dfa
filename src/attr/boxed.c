/* Target logits of inputs that differ from the call's input only inside a
 * box (occlusion windows, compact ablated features), through the engine's
 * exact incremental forward (hl_incremental): each layer recomputes only
 * what the box reaches. Models whose graph the incremental forward does
 * not take (several inputs, a node reading a pre-BN value) get plain
 * forwards; the numbers are the same up to float rounding either way.
 * HL_INCREMENTAL=0 in the environment asks for plain forwards (to time
 * both). The rows may also start at a layer's value instead of the input
 * (layer_feature_ablation: only what follows the layer runs). */
#include <stdlib.h>
#include <string.h>

#include "attr-private.h"

hl_status hl_attr_boxed_new(hl_attr_call *c, hl_attr_boxed *b,
                            const hl_box *typical, hl_error *err)
{
    return hl_attr_boxed_new_at(c, b, -1, hl_attr_input_numel(c), typical, 0, err);
}

hl_status hl_attr_boxed_new_at(hl_attr_call *c, hl_attr_boxed *b, int value,
                               int64_t row_floats, const hl_box *typical,
                               int64_t extra_row_bytes, hl_error *err)
{
    memset(b, 0, sizeof *b);
    b->value = value;
    b->row_floats = row_floats;
    b->rows = hl_attr_eval_batch(c);
    const char *env = getenv("HL_INCREMENTAL");
    if (env && strcmp(env, "0") == 0)
        return HL_OK;
    hl_error e = {0};
    hl_status st = hl_incremental_new(c->model, hl_run_threadpool(c->run),
                                      c->input->data, &b->inc, &e);
    if (st == HL_OK && value >= 0 && !hl_incremental_can_start(b->inc, value)) {
        hl_incremental_free(b->inc);
        b->inc = NULL;
        return HL_OK;           /* the caller's plain path */
    }
    if (st == HL_ERR_UNSUPPORTED)
        return HL_OK;           /* plain forwards */
    if (st != HL_OK)
        return hl_error_set(err, st, "%s", e.msg);
    size_t row = value < 0 ? hl_incremental_row_bytes(b->inc, typical, &e)
                           : hl_incremental_row_bytes_from(b->inc, value, typical, &e);
    int cap = hl_attr_rows_within_budget(
        (int64_t)hl_incremental_clean_bytes(b->inc), (int64_t)row + extra_row_bytes);
    int want = c->p->perturbations_per_eval > 0 ? c->p->perturbations_per_eval : 1;
    b->rows = want < cap ? want : cap;
    hl_shape s;
    if (hl_model_value_shape(c->model, c->output_value, &s) != HL_OK)
        return hl_error_set(err, HL_ERR_ARG, "%s: no output shape",
                            hl_model_name(c->model));
    s.dims[0] = 1;
    b->classes = hl_shape_numel(&s);
    if (c->target < 0 || c->target >= b->classes)
        return hl_error_set(err, HL_ERR_ARG, "target %d out of range (%lld "
                            "classes)", c->target, (long long)b->classes);
    b->out = malloc(sizeof(float) * (size_t)(b->rows * b->classes));
    if (!b->out)
        return hl_error_set(err, HL_ERR_NOMEM, "out of memory");
    return HL_OK;
}

hl_status hl_attr_boxed_logits(hl_attr_call *c, hl_attr_boxed *b,
                               const float *inputs, const hl_box *boxes,
                               int n, float *logits_target, hl_error *err)
{
    if (!b->inc)
        return hl_attr_target_logits(c, inputs, n, b->rows, logits_target, err);
    const int64_t numel = b->row_floats;
    for (int r0 = 0; r0 < n; r0 += b->rows) {
        int nb = n - r0 < b->rows ? n - r0 : b->rows;
        hl_status st = b->value < 0
            ? hl_incremental_forward(b->inc, inputs + r0 * numel, boxes + r0, nb, err)
            : hl_incremental_forward_from(b->inc, b->value, inputs + r0 * numel,
                                          boxes + r0, nb, err);
        if (st == HL_OK)
            st = hl_incremental_read(b->inc, c->output_value, b->out, err);
        if (st != HL_OK)
            return st;
        for (int r = 0; r < nb; r++)
            logits_target[r0 + r] = b->out[(int64_t)r * b->classes + c->target];
    }
    return HL_OK;
}

void hl_attr_boxed_free(hl_attr_boxed *b)
{
    hl_incremental_free(b->inc);
    free(b->out);
    memset(b, 0, sizeof *b);
}
