/* Data-movement and shape ops (Flatten, Reshape, Transpose, Concat,
 * Squeeze, Unsqueeze, Pad, Identity, Dropout, Gather, Slice, Cast, Split) on
 * float data: forward against index maps built here with plain loops,
 * backward against finite differences. Plan-time folding (Shape, Gather,
 * Unsqueeze, Concat, Cast, Slice, Constant, ConstantOfShape, int64
 * arithmetic) against hand-computed values. Plus the op table and the
 * thread pool. */
#include "ops-harness.h"

/* y[o] = in[src[o]][idx[o]], or `value` where idx[o] < 0 */
typedef struct {
    int64_t n;
    int src[4096];
    int64_t idx[4096];
    double value;
} map_ref;

static void map_ref_run(void *ctx, double *const *in, double *y)
{
    const map_ref *r = ctx;
    for (int64_t o = 0; o < r->n; o++)
        y[o] = r->idx[o] < 0 ? r->value : in[r->src[o]][r->idx[o]];
}

static map_ref M;   /* one map at a time, too big for the stack */

static void identity_map(int64_t n)
{
    M.n = n;
    M.value = 0;
    for (int64_t i = 0; i < n; i++) {
        M.src[i] = 0;
        M.idx[i] = i;
    }
}

static float X[4096], Y[4096], Z[4096];

static void shape_only_ops(void)
{
    rnd_fill(X, 120, -1, 1);
    tin x1[1] = { { .shape = S(2, 3, 4, 5), .f = X, .grad = 1 } };
    attr_set as;

    identity_map(120);
    as_reset(&as);
    check_op("Flatten default axis", "Flatten", 13, &as, 1, x1, S(2, 60),
             map_ref_run, &M);
    as_int(&as, "axis", 3);
    check_op("Flatten axis 3", "Flatten", 13, &as, 1, x1, S(24, 5),
             map_ref_run, &M);
    as_reset(&as);
    as_int(&as, "axis", -2);
    check_op("Flatten axis -2", "Flatten", 13, &as, 1, x1, S(6, 20),
             map_ref_run, &M);
    as_reset(&as);
    as_int(&as, "axis", 0);
    check_op("Flatten axis 0", "Flatten", 13, &as, 1, x1, S(1, 120),
             map_ref_run, &M);

    int64_t shape1[3] = { 0, -1, 10 };
    tin r1[2] = { x1[0], { .shape = S(3), .dtype = HL_DT_INT64, .i = shape1,
                           .constant = 1 } };
    check_op("Reshape [0,-1,10]", "Reshape", 13, NULL, 2, r1, S(2, 6, 10),
             map_ref_run, &M);
    int64_t shape2[2] = { -1, 4 };
    r1[1] = (tin){ .shape = S(2), .dtype = HL_DT_INT64, .i = shape2, .constant = 1 };
    check_op("Reshape [-1,4]", "Reshape", 14, NULL, 2, r1, S(30, 4),
             map_ref_run, &M);
    int64_t shape3[4] = { 2, 3, 20, 1 };
    r1[1] = (tin){ .shape = S(4), .dtype = HL_DT_INT64, .i = shape3, .constant = 1 };
    as_reset(&as);
    as_int(&as, "allowzero", 1);
    check_op("Reshape allowzero without zeros", "Reshape", 14, &as, 2, r1,
             S(2, 3, 20, 1), map_ref_run, &M);
    int64_t shape4[2] = { 0, 4 };
    float none[1];
    tin empty[2] = { { .shape = S(0, 3), .f = none },
                     { .shape = S(2), .dtype = HL_DT_INT64, .i = shape4,
                       .constant = 1 } };
    {
        op_case c;
        hl_error err = { 0 };
        hl_status st = oc_setup(&c, "Reshape", 14, &as, 2, empty, 1, &err);
        hl_shape want = S(0, 4);
        tap_ok(st == HL_OK && hl_shape_equal(&c.out[0].shape, &want),
               "Reshape allowzero keeps a literal 0 dim (%s)", err.msg);
        oc_free(&c);
    }
    as_reset(&as);
    int64_t bad[2] = { 7, -1 };
    r1[1] = (tin){ .shape = S(2), .dtype = HL_DT_INT64, .i = bad, .constant = 1 };
    check_error("Reshape 120 elements to [7,-1]", "Reshape", 14, NULL, 2, r1,
                1, HL_ERR_SHAPE, "infer");
    /* opset 1-4: shape attribute */
    as_ints(&as, "shape", 2, (int64_t[]){ 4, 30 });
    check_op("Reshape opset 1 shape attribute", "Reshape", 1, &as, 1, x1,
             S(4, 30), map_ref_run, &M);

    /* Identity and Dropout are aliases (the loader keeps only an alias
     * value: test-onnx-errors runs a model through them); their init()
     * decides what is inference */
    check_error("Identity accepted", "Identity", 13, NULL, 1, x1, 1, HL_OK,
                NULL);
    check_error("Dropout (inference) accepted", "Dropout", 13, NULL, 1, x1,
                1, HL_OK, NULL);
    check_error("Dropout mask output", "Dropout", 13, NULL, 1, x1, 2,
                HL_ERR_UNSUPPORTED, "mask");
    {
        float ratio = 0.5f;
        int64_t off = 0, on = 1;
        tin d3[3] = { x1[0], { .shape = S(0), .f = &ratio, .constant = 1 },
                      { .shape = S(0), .dtype = HL_DT_INT64, .i = &off,
                        .constant = 1 } };
        d3[1].shape.ndim = 0;
        d3[2].shape.ndim = 0;
        check_error("Dropout training_mode = constant false", "Dropout", 13,
                    NULL, 3, d3, 1, HL_OK, NULL);
        d3[2].i = &on;
        check_error("Dropout training_mode = constant true", "Dropout", 13,
                    NULL, 3, d3, 1, HL_ERR_UNSUPPORTED, "training_mode");
        float zero = 0.0f;
        d3[2] = (tin){ .shape = S(0), .f = &zero };  /* computed by forward */
        d3[2].shape.ndim = 0;
        check_error("Dropout training_mode computed", "Dropout", 13, NULL, 3,
                    d3, 1, HL_ERR_UNSUPPORTED, "training_mode");
    }
    as_reset(&as);
    as_int(&as, "to", 1);
    check_op("Cast float -> float", "Cast", 13, &as, 1, x1, S(2, 3, 4, 5),
             map_ref_run, &M);
    as_reset(&as);
    as_int(&as, "to", 10);
    check_error("Cast to float16", "Cast", 13, &as, 1, x1, 1,
                HL_ERR_UNSUPPORTED, "'to'");
    as_reset(&as);
    as_int(&as, "to", 7);
    check_error("Cast of a run-time float tensor to int64", "Cast", 13, &as,
                1, x1, 1, HL_ERR_UNSUPPORTED, "data type");

    /* Squeeze / Unsqueeze */
    tin x2[2] = { { .shape = S(2, 1, 3, 1, 4), .f = X, .grad = 1 } };
    identity_map(24);
    as_reset(&as);
    check_op("Squeeze all unit dims", "Squeeze", 11, &as, 1, x2, S(2, 3, 4),
             map_ref_run, &M);
    as_ints(&as, "axes", 1, (int64_t[]){ -2 });
    check_op("Squeeze axes attribute [-2]", "Squeeze", 11, &as, 1, x2,
             S(2, 1, 3, 4), map_ref_run, &M);
    int64_t ax1[1] = { 1 };
    x2[1] = (tin){ .shape = S(1), .dtype = HL_DT_INT64, .i = ax1, .constant = 1 };
    check_op("Squeeze axes input [1] (opset 13)", "Squeeze", 13, NULL, 2, x2,
             S(2, 3, 1, 4), map_ref_run, &M);
    as_reset(&as);
    as_ints(&as, "axes", 1, (int64_t[]){ 0 });
    check_error("Squeeze of a dim != 1", "Squeeze", 11, &as, 1, x2, 1,
                HL_ERR_SHAPE, "squeeze");
    tin x3[2] = { { .shape = S(2, 3, 4), .f = X, .grad = 1 } };
    as_reset(&as);
    as_ints(&as, "axes", 2, (int64_t[]){ 0, 3 });
    check_op("Unsqueeze axes attribute [0,3]", "Unsqueeze", 11, &as, 1, x3,
             S(1, 2, 3, 1, 4), map_ref_run, &M);
    int64_t ax2[2] = { -1, 1 };
    x3[1] = (tin){ .shape = S(2), .dtype = HL_DT_INT64, .i = ax2, .constant = 1 };
    check_op("Unsqueeze axes input [-1,1] (opset 13)", "Unsqueeze", 13, NULL,
             2, x3, S(2, 1, 3, 4, 1), map_ref_run, &M);
}

static void transpose_ops(void)
{
    rnd_fill(X, 120, -1, 1);
    tin x1[1] = { { .shape = S(2, 3, 4, 5), .f = X, .grad = 1 } };
    attr_set as;
    /* perm (0,2,3,1): out[a][c][d][b] = in[a][b][c][d] */
    M.n = 120;
    for (int a = 0; a < 2; a++) for (int c = 0; c < 4; c++)
    for (int d = 0; d < 5; d++) for (int b = 0; b < 3; b++) {
        int64_t o = ((a * 4 + c) * 5 + d) * 3 + b;
        M.src[o] = 0;
        M.idx[o] = ((a * 3 + b) * 4 + c) * 5 + d;
    }
    as_reset(&as);
    as_ints(&as, "perm", 4, (int64_t[]){ 0, 2, 3, 1 });
    check_op("Transpose perm (0,2,3,1)", "Transpose", 13, &as, 1, x1,
             S(2, 4, 5, 3), map_ref_run, &M);
    /* default: reverse */
    for (int a = 0; a < 2; a++) for (int b = 0; b < 3; b++)
    for (int c = 0; c < 4; c++) for (int d = 0; d < 5; d++) {
        int64_t o = ((d * 4 + c) * 3 + b) * 2 + a;
        M.src[o] = 0;
        M.idx[o] = ((a * 3 + b) * 4 + c) * 5 + d;
    }
    as_reset(&as);
    check_op("Transpose default (reverse)", "Transpose", 13, &as, 1, x1,
             S(5, 4, 3, 2), map_ref_run, &M);
    as_ints(&as, "perm", 3, (int64_t[]){ 0, 1, 1 });
    check_error("Transpose bad perm", "Transpose", 13, &as, 1, x1, 1,
                HL_ERR_ARG, "perm");
}

static void concat_ops(void)
{
    rnd_fill(X, 24, -1, 1);
    rnd_fill(Y, 36, -1, 1);
    rnd_fill(Z, 12, -1, 1);
    /* [2,2,2,3] ++ [2,3,2,3] ++ [2,1,2,3] along axis 1 */
    tin ins[3] = { { .shape = S(2, 2, 2, 3), .f = X, .grad = 1 },
                   { .shape = S(2, 3, 2, 3), .f = Y, .grad = 1 },
                   { .shape = S(2, 1, 2, 3), .f = Z, .grad = 1 } };
    M.n = 2 * 6 * 6;
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 6; c++)
            for (int k = 0; k < 6; k++) {
                int64_t o = (a * 6 + c) * 6 + k;
                if (c < 2) { M.src[o] = 0; M.idx[o] = (a * 2 + c) * 6 + k; }
                else if (c < 5) { M.src[o] = 1; M.idx[o] = (a * 3 + c - 2) * 6 + k; }
                else { M.src[o] = 2; M.idx[o] = a * 6 + k; }
            }
    attr_set as;
    as_reset(&as);
    as_int(&as, "axis", 1);
    check_op("Concat 3 inputs axis 1", "Concat", 13, &as, 3, ins,
             S(2, 6, 2, 3), map_ref_run, &M);
    /* axis -1 on [2,3] ++ [2,2] */
    tin in2[2] = { { .shape = S(2, 3), .f = X, .grad = 1 },
                   { .shape = S(2, 2), .f = Y, .grad = 1 } };
    M.n = 10;
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 5; c++) {
            M.src[r * 5 + c] = c < 3 ? 0 : 1;
            M.idx[r * 5 + c] = c < 3 ? r * 3 + c : r * 2 + c - 3;
        }
    as_reset(&as);
    as_int(&as, "axis", -1);
    check_op("Concat axis -1", "Concat", 13, &as, 2, in2, S(2, 5),
             map_ref_run, &M);
    as_reset(&as);
    as_int(&as, "axis", 0);
    check_error("Concat mismatched dims", "Concat", 13, &as, 2, in2, 1,
                HL_ERR_SHAPE, "does not match");
}

static void pad_ops(void)
{
    rnd_fill(X, 60, -1, 1);
    /* [1,3,4,5] pads NCHW begin (0,1,2,0) end (0,0,1,3), value 0.5 */
    int64_t pads[8] = { 0, 1, 2, 0, 0, 0, 1, 3 };
    int64_t in_d[4] = { 1, 3, 4, 5 }, out_d[4];
    for (int i = 0; i < 4; i++)
        out_d[i] = in_d[i] + pads[i] + pads[4 + i];
    M.n = out_d[0] * out_d[1] * out_d[2] * out_d[3];
    M.value = 0.5;
    for (int64_t o = 0; o < M.n; o++) {
        int64_t rem = o, idx[4];
        for (int d = 3; d >= 0; d--) {
            idx[d] = rem % out_d[d] - pads[d];
            rem /= out_d[d];
        }
        int inside = 1;
        for (int d = 0; d < 4; d++)
            if (idx[d] < 0 || idx[d] >= in_d[d])
                inside = 0;
        M.src[o] = 0;
        M.idx[o] = inside ? ((idx[0] * 3 + idx[1]) * 4 + idx[2]) * 5 + idx[3] : -1;
    }
    hl_shape os = S(out_d[0], out_d[1], out_d[2], out_d[3]);
    float value = 0.5f;
    tin ins[3] = { { .shape = S(1, 3, 4, 5), .f = X, .grad = 1 },
                   { .shape = S(8), .dtype = HL_DT_INT64, .i = pads, .constant = 1 },
                   { .shape = S_SCALAR, .f = &value, .constant = 1 } };
    check_op("Pad constant 0.5, asymmetric (opset 13 inputs)", "Pad", 13, NULL,
             3, ins, os, map_ref_run, &M);
    attr_set as;
    as_reset(&as);
    as_ints(&as, "pads", 8, pads);
    as_float(&as, "value", 0.5f);
    check_op("Pad constant 0.5, asymmetric (opset 2 attributes)", "Pad", 2,
             &as, 1, ins, os, map_ref_run, &M);

    /* negative pads crop: W begin -1, end -2 ; H begin 1 */
    int64_t crop[8] = { 0, 0, 1, -1, 0, 0, 0, -2 };
    int64_t od2[4] = { 1, 3, 5, 2 };
    M.n = 30;
    M.value = 0;
    for (int64_t c = 0; c < 3; c++)
        for (int64_t h = 0; h < 5; h++)
            for (int64_t w = 0; w < 2; w++) {
                int64_t o = (c * 5 + h) * 2 + w;
                M.src[o] = 0;
                M.idx[o] = h == 0 ? -1 : (c * 4 + h - 1) * 5 + w + 1;
            }
    tin in2[2] = { ins[0], { .shape = S(8), .dtype = HL_DT_INT64, .i = crop,
                             .constant = 1 } };
    check_op("Pad with negative pads (crop)", "Pad", 13, NULL, 2, in2,
             S(od2[0], od2[1], od2[2], od2[3]), map_ref_run, &M);
    as_reset(&as);
    as_string(&as, "mode", "reflect");
    check_error("Pad mode reflect", "Pad", 13, &as, 2, in2, 1,
                HL_ERR_UNSUPPORTED, "mode");
    as_reset(&as);
    as_string(&as, "mode", "edge");
    check_error("Pad mode edge", "Pad", 13, &as, 2, in2, 1,
                HL_ERR_UNSUPPORTED, "mode");
}

static void gather_slice_ops(void)
{
    rnd_fill(X, 120, -1, 1);
    /* Gather axis 1 of [2,3,4,5] with indices [[2,0],[-1,2]]: repeated
     * index 2 accumulates in backward */
    int64_t idx[4] = { 2, 0, -1, 2 };
    tin ins[2] = { { .shape = S(2, 3, 4, 5), .f = X, .grad = 1 },
                   { .shape = S(2, 2), .dtype = HL_DT_INT64, .i = idx,
                     .constant = 1 } };
    M.n = 2 * 4 * 20;
    M.value = 0;
    for (int a = 0; a < 2; a++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 20; k++) {
                int64_t id = idx[j] < 0 ? idx[j] + 3 : idx[j];
                int64_t o = (a * 4 + j) * 20 + k;
                M.src[o] = 0;
                M.idx[o] = (a * 3 + id) * 20 + k;
            }
    attr_set as;
    as_reset(&as);
    as_int(&as, "axis", 1);
    check_op("Gather axis 1, 2-D indices with -1 and repeats", "Gather", 13,
             &as, 2, ins, S(2, 2, 2, 4, 5), map_ref_run, &M);
    /* axis -1, scalar index */
    int64_t one = 3;
    ins[1] = (tin){ .shape = S_SCALAR, .dtype = HL_DT_INT64, .i = &one, .constant = 1 };
    M.n = 24;
    for (int64_t o = 0; o < 24; o++) {
        M.src[o] = 0;
        M.idx[o] = o * 5 + 3;
    }
    as_reset(&as);
    as_int(&as, "axis", -1);
    check_op("Gather axis -1, scalar index", "Gather", 13, &as, 2, ins,
             S(2, 3, 4), map_ref_run, &M);
    int64_t oob = 7;
    ins[1].i = &oob;
    check_error("Gather index out of range", "Gather", 13, &as, 2, ins, 1,
                HL_ERR_ARG, "out of range");

    /* Slice opset 13: axes (1,3), starts (1,-1), ends (3,-6 -> clamp),
     * steps (1,-2) on [2,3,4,5]: dim1 -> 1..2, dim3 -> 4,2,0 */
    int64_t st[2] = { 1, -1 }, en[2] = { 3, -100 }, axs[2] = { 1, 3 },
            stp[2] = { 1, -2 };
    tin sl[5] = { { .shape = S(2, 3, 4, 5), .f = X, .grad = 1 },
                  { .shape = S(2), .dtype = HL_DT_INT64, .i = st, .constant = 1 },
                  { .shape = S(2), .dtype = HL_DT_INT64, .i = en, .constant = 1 },
                  { .shape = S(2), .dtype = HL_DT_INT64, .i = axs, .constant = 1 },
                  { .shape = S(2), .dtype = HL_DT_INT64, .i = stp, .constant = 1 } };
    M.n = 2 * 2 * 4 * 3;
    for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++)
    for (int c = 0; c < 4; c++) for (int d = 0; d < 3; d++) {
        int64_t o = ((a * 2 + b) * 4 + c) * 3 + d;
        M.src[o] = 0;
        M.idx[o] = ((a * 3 + (b + 1)) * 4 + c) * 5 + (4 - 2 * d);
    }
    check_op("Slice opset 13 axes (1,3) negative step", "Slice", 13, NULL, 5,
             sl, S(2, 2, 4, 3), map_ref_run, &M);
    /* opset 1 attributes: starts (0,1) ends (1,1000) on axes default */
    as_reset(&as);
    as_ints(&as, "starts", 2, (int64_t[]){ 0, 1 });
    as_ints(&as, "ends", 2, (int64_t[]){ 1, 1000 });
    M.n = 40;
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 20; k++) {
            M.src[b * 20 + k] = 0;
            M.idx[b * 20 + k] = (b + 1) * 20 + k;
        }
    check_op("Slice opset 1 attributes, end clamped", "Slice", 1, &as, 1, sl,
             S(1, 2, 4, 5), map_ref_run, &M);
    /* opset 10: starts/ends only (axes default), start beyond end -> empty */
    int64_t st2[1] = { 3 }, en2[1] = { 1 };
    tin sl2[3] = { sl[0],
                   { .shape = S(1), .dtype = HL_DT_INT64, .i = st2, .constant = 1 },
                   { .shape = S(1), .dtype = HL_DT_INT64, .i = en2, .constant = 1 } };
    {
        op_case c;
        hl_error err = { 0 };
        hl_status s = oc_setup(&c, "Slice", 10, NULL, 3, sl2, 1, &err);
        hl_shape want = S(0, 3, 4, 5);
        tap_ok(s == HL_OK && hl_shape_equal(&c.out[0].shape, &want),
               "Slice with start past end gives an empty dim");
        oc_free(&c);
    }
}

/* ------------------------------------------------------------- folding */

static void fold_check(const char *label, const char *op, int opset,
                       const attr_set *as, int n_in, const tin *ins,
                       hl_shape want_shape, hl_dtype want_dtype,
                       const int64_t *want_i, const float *want_f)
{
    op_case c;
    hl_error err = { 0 };
    char b1[96];
    hl_status st = oc_setup(&c, op, opset, as, n_in, ins, 1, &err);
    if (!st)
        st = c.op->fold ? c.op->fold(&c.node, c.in, c.out, &err)
                        : HL_ERR_UNSUPPORTED;
    int ok = st == HL_OK && hl_shape_equal(&c.out[0].shape, &want_shape) &&
             c.out[0].dtype == want_dtype;
    int64_t n = hl_shape_numel(&want_shape);
    for (int64_t i = 0; ok && i < n; i++) {
        if (want_dtype == HL_DT_INT64)
            ok = c.out[0].i64[i] == want_i[i];
        else
            ok = c.out[0].data[i] == want_f[i];
    }
    tap_ok(ok, "fold %s -> %s %s", label,
           hl_shape_format(&c.out[0].shape, b1, sizeof b1),
           st ? err.msg : "");
    oc_free(&c);
}

static void folds(void)
{
    float dummy[120] = { 0 };
    attr_set as;
    /* Shape of [2,3,4,5]; with start/end (opset 15) */
    tin x[1] = { { .shape = S(2, 3, 4, 5), .f = dummy } };
    fold_check("Shape", "Shape", 13, NULL, 1, x, S(4), HL_DT_INT64,
               (int64_t[]){ 2, 3, 4, 5 }, NULL);
    as_reset(&as);
    as_int(&as, "start", 1);
    as_int(&as, "end", -1);
    fold_check("Shape start 1 end -1", "Shape", 15, &as, 1, x, S(2),
               HL_DT_INT64, (int64_t[]){ 3, 4 }, NULL);
    /* Gather(shape, 0) -> scalar 2 */
    int64_t shp[4] = { 2, 3, 4, 5 }, zero = 0;
    tin g[2] = { { .shape = S(4), .dtype = HL_DT_INT64, .i = shp },
                 { .shape = S_SCALAR, .dtype = HL_DT_INT64, .i = &zero } };
    fold_check("Gather int64 scalar index", "Gather", 13, NULL, 2, g,
               S_SCALAR, HL_DT_INT64, (int64_t[]){ 2 }, NULL);
    /* Unsqueeze scalar -> [1] (opset 13 axes input) */
    int64_t two = 2, ax0 = 0;
    tin u[2] = { { .shape = S_SCALAR, .dtype = HL_DT_INT64, .i = &two },
                 { .shape = S(1), .dtype = HL_DT_INT64, .i = &ax0 } };
    fold_check("Unsqueeze int64 scalar", "Unsqueeze", 13, NULL, 2, u, S(1),
               HL_DT_INT64, (int64_t[]){ 2 }, NULL);
    /* Concat [2] ++ [-1] */
    int64_t m1 = -1;
    tin cc[2] = { { .shape = S(1), .dtype = HL_DT_INT64, .i = &two },
                  { .shape = S(1), .dtype = HL_DT_INT64, .i = &m1 } };
    as_reset(&as);
    as_int(&as, "axis", 0);
    fold_check("Concat int64", "Concat", 13, &as, 2, cc, S(2), HL_DT_INT64,
               (int64_t[]){ 2, -1 }, NULL);
    /* int64 arithmetic */
    int64_t a3[3] = { 6, 7, -8 }, b1 = 3;
    tin ar[2] = { { .shape = S(3), .dtype = HL_DT_INT64, .i = a3 },
                  { .shape = S_SCALAR, .dtype = HL_DT_INT64, .i = &b1 } };
    fold_check("Add int64", "Add", 13, NULL, 2, ar, S(3), HL_DT_INT64,
               (int64_t[]){ 9, 10, -5 }, NULL);
    fold_check("Mul int64", "Mul", 13, NULL, 2, ar, S(3), HL_DT_INT64,
               (int64_t[]){ 18, 21, -24 }, NULL);
    fold_check("Sub int64", "Sub", 13, NULL, 2, ar, S(3), HL_DT_INT64,
               (int64_t[]){ 3, 4, -11 }, NULL);
    fold_check("Div int64 (truncates)", "Div", 13, NULL, 2, ar, S(3),
               HL_DT_INT64, (int64_t[]){ 2, 2, -2 }, NULL);
    /* Cast both ways */
    as_reset(&as);
    as_int(&as, "to", 1);
    fold_check("Cast int64 -> float", "Cast", 13, &as, 1, ar, S(3),
               HL_DT_FLOAT, NULL, (float[]){ 6, 7, -8 });
    float fv[3] = { 1.9f, -2.7f, 3.0f };
    tin cf[1] = { { .shape = S(3), .f = fv, .constant = 1 } };
    as_reset(&as);
    as_int(&as, "to", 7);
    fold_check("Cast float -> int64 (truncates)", "Cast", 13, &as, 1, cf,
               S(3), HL_DT_INT64, (int64_t[]){ 1, -2, 3 }, NULL);
    /* Slice of a shape vector: [2,3,4,5][1:3] */
    int64_t s1 = 1, e1 = 3;
    tin sl[3] = { { .shape = S(4), .dtype = HL_DT_INT64, .i = shp },
                  { .shape = S(1), .dtype = HL_DT_INT64, .i = &s1 },
                  { .shape = S(1), .dtype = HL_DT_INT64, .i = &e1 } };
    fold_check("Slice int64", "Slice", 13, NULL, 3, sl, S(2), HL_DT_INT64,
               (int64_t[]){ 3, 4 }, NULL);
    /* Reshape of int64 */
    int64_t tgt[2] = { 2, 2 };
    tin rs[2] = { { .shape = S(4), .dtype = HL_DT_INT64, .i = shp },
                  { .shape = S(2), .dtype = HL_DT_INT64, .i = tgt } };
    fold_check("Reshape int64", "Reshape", 13, NULL, 2, rs, S(2, 2),
               HL_DT_INT64, shp, NULL);
    /* Constant: tensor, value_ints, value_float */
    {
        int64_t vals[2] = { 5, 6 };
        hl_tensor t = { .shape = S(2), .dtype = HL_DT_INT64, .i64 = vals };
        as_reset(&as);
        as_add(&as, "value", HL_ATTR_TENSOR)->t = &t;
        fold_check("Constant int64 tensor", "Constant", 13, &as, 0, NULL,
                   S(2), HL_DT_INT64, vals, NULL);
        as_reset(&as);
        as_ints(&as, "value_ints", 3, (int64_t[]){ 1, -1, 4 });
        fold_check("Constant value_ints", "Constant", 13, &as, 0, NULL, S(3),
                   HL_DT_INT64, (int64_t[]){ 1, -1, 4 }, NULL);
        as_reset(&as);
        as_float(&as, "value_float", 2.5f);
        fold_check("Constant value_float", "Constant", 13, &as, 0, NULL,
                   S_SCALAR, HL_DT_FLOAT, NULL, (float[]){ 2.5f });
        as_reset(&as);
        as_string(&as, "value_string", "x");
        check_error("Constant value_string", "Constant", 13, &as, 0, NULL, 1,
                    HL_ERR_UNSUPPORTED, "value_string");
    }
    /* ConstantOfShape */
    {
        int64_t dims[2] = { 2, 3 };
        tin cs[1] = { { .shape = S(2), .dtype = HL_DT_INT64, .i = dims } };
        fold_check("ConstantOfShape default 0.0", "ConstantOfShape", 13, NULL,
                   1, cs, S(2, 3), HL_DT_FLOAT, NULL,
                   (float[]){ 0, 0, 0, 0, 0, 0 });
        int64_t seven = 7;
        hl_tensor t = { .shape = S(1), .dtype = HL_DT_INT64, .i64 = &seven };
        as_reset(&as);
        as_add(&as, "value", HL_ATTR_TENSOR)->t = &t;
        fold_check("ConstantOfShape int64 7", "ConstantOfShape", 13, &as, 1,
                   cs, S(2, 3), HL_DT_INT64, (int64_t[]){ 7, 7, 7, 7, 7, 7 },
                   NULL);
    }
}

/* ----------------------------------------------------- op table, pool */

static void table_checks(void)
{
    /* the public listing (hl_engine_op_*) is the table, in its order,
     * each name once, each from a family file */
    int count = hl_engine_op_count(), all_found = 1, in_order = 1;
    for (int i = 0; i < count; i++) {
        const char *name = hl_engine_op_name(i), *file = hl_engine_op_file(i);
        const hl_op *op = hl_op_find(name);
        if (!op || strcmp(op->op_type, name) != 0 || !file ||
            strlen(file) < 3 || strcmp(file + strlen(file) - 2, ".c") != 0 ||
            strchr(file, '/'))
            all_found = 0;
        if (hl_op_index(name) != i)
            in_order = 0;
    }
    tap_ok(all_found && in_order && hl_engine_op_name(count) == NULL &&
               hl_engine_op_name(-1) == NULL,
           "hl_engine_op_name/file list every table entry once, in order "
           "(%d ops)", count);
    tap_ok(hl_op_get(count) == NULL && hl_op_get(-1) == NULL,
           "table has exactly %d entries", count);
    tap_ok(hl_op_find("NoSuchOp") == NULL && hl_op_index("NoSuchOp") == -1 &&
               hl_op_index(NULL) == -1,
           "unknown op type is not found");
    int complete = 1;
    for (int i = 0; i < count; i++) {
        const hl_op *op = hl_op_get(i);
        if (op->flags & HL_OP_ALIAS) {
            if (!op->init || op->shape || op->forward || op->backward)
                complete = 0;
        } else if (!op->shape || !op->forward || !op->backward) {
            complete = 0;
        }
    }
    tap_ok(complete, "every op has shape, forward and backward, but the "
           "alias ops (init only: the loader removes them)");
    static const char *required[] = {
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip",
        "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "MaxPool",
        "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Add", "Sub",
        "Mul", "Div", "Gemm", "MatMul", "Flatten", "Reshape", "Transpose",
        "Concat", "Softmax", "LogSoftmax", "Dropout", "Identity", "Pad",
        "Squeeze", "Unsqueeze", "ReduceMean", "Shape", "Gather", "Constant",
        "Cast", "Slice",
    };
    int have = 1;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!hl_op_find(required[i])) {
            have = 0;
            tap_diag("missing %s", required[i]);
        }
    tap_ok(have, "all ops of issue 2 are in the table");
}

typedef struct {
    int hits[64];
    long sum;
    int n_seen;
} pool_probe;

static void probe_run(void *ctx, int i, int n)
{
    pool_probe *p = ctx;
    __atomic_fetch_add(&p->hits[i], 1, __ATOMIC_RELAXED);
    p->n_seen = n;
}

static void probe_for(void *ctx, long b, long e)
{
    pool_probe *p = ctx;
    long s = 0;
    for (long i = b; i < e; i++)
        s += i;
    __atomic_fetch_add(&p->sum, s, __ATOMIC_RELAXED);
}

static void pool_checks(void)
{
    for (int threads = 1; threads <= 4; threads++) {
        hl_threadpool *p = hl_threadpool_new(threads);
        int ok = p && hl_threadpool_threads(p) == threads;
        for (int rep = 0; ok && rep < 200; rep++) {
            pool_probe pr = { { 0 }, 0, 0 };
            hl_threadpool_run(p, probe_run, &pr);
            for (int i = 0; i < threads; i++)
                if (pr.hits[i] != 1)
                    ok = 0;
            if (pr.n_seen != threads)
                ok = 0;
            pool_probe pf = { { 0 }, 0, 0 };
            long total = 1000 + rep;
            hl_threadpool_for(p, total, probe_for, &pf);
            if (pf.sum != total * (total - 1) / 2)
                ok = 0;
        }
        tap_ok(ok, "pool of %d threads: run calls each index once, for covers the range (200 rounds)",
               threads);
        hl_threadpool_free(p);
    }
    pool_probe pr = { { 0 }, 0, 0 };
    hl_threadpool_run(NULL, probe_run, &pr);
    pool_probe pf = { { 0 }, 0, 0 };
    hl_threadpool_for(NULL, 10, probe_for, &pf);
    tap_ok(pr.hits[0] == 1 && pr.n_seen == 1 && pf.sum == 45,
           "NULL pool runs on the caller");
    hl_threadpool *d = hl_threadpool_new(0);
    tap_ok(d && hl_threadpool_threads(d) >= 1, "pool with threads <= 0 uses the processor count (%d)",
           hl_threadpool_threads(d));
    hl_threadpool_free(d);
}

/* Split of a [2,6,4] ramp (or `xs`) along `axis`; mode 0 = equal parts,
 * 1 = 'split' attribute, 2 = constant 'split' input. Forward against the
 * slices cut here by index arithmetic; backward (output 1 without a
 * gradient) against the output gradients put back in place. */
static void split_case(const char *label, int opset, hl_shape xs, int axis,
                       int nout, int mode, const int64_t *sizes,
                       const int64_t *expect)
{
    int64_t n = hl_shape_numel(&xs);
    float *x = malloc(sizeof(float) * (size_t)n);
    rnd_fill(x, n, -1, 1);
    attr_set as;
    as_reset(&as);
    as_int(&as, "axis", axis);
    if (mode == 1)
        as_ints(&as, "split", nout, sizes);
    int64_t sv[8];
    for (int i = 0; i < nout && mode == 2; i++)
        sv[i] = sizes[i];
    tin ins[2] = { { .shape = xs, .f = x, .grad = 1 },
                   { .shape = S(nout), .dtype = HL_DT_INT64, .i = sv,
                     .constant = 1 } };
    op_case c;
    hl_error err = { 0 };
    if (!tap_ok(oc_setup(&c, "Split", opset, &as, mode == 2 ? 2 : 1, ins, nout,
                         &err) == HL_OK, "%s: setup %s", label, err.msg)) {
        oc_free(&c);
        free(x);
        return;
    }
    int a = axis < 0 ? axis + xs.ndim : axis;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a; d++)
        outer *= xs.dims[d];
    for (int d = a + 1; d < xs.ndim; d++)
        inner *= xs.dims[d];
    int shapes_ok = 1;
    for (int i = 0; i < nout; i++) {
        hl_shape want = xs;
        want.dims[a] = expect[i];
        shapes_ok &= hl_shape_equal(&c.out[i].shape, &want);
    }
    if (!tap_ok(shapes_ok, "%s: output shapes", label)) {
        oc_free(&c);
        free(x);
        return;
    }
    oc_forward(&c, test_pool_);
    double err_f = 0;
    int64_t start = 0;
    for (int i = 0; i < nout; i++) {
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < expect[i]; k++)
                for (int64_t q = 0; q < inner; q++)
                    err_f = fmax(err_f, fabs(c.out[i].data[(o * expect[i] + k) * inner + q] -
                                             x[(o * xs.dims[a] + start + k) * inner + q]));
        start += expect[i];
    }
    tap_ok(err_f == 0, "%s: forward = the slices (max diff %.1e)", label, err_f);

    hl_tensor gout[HL_MAX_IO], gin[HL_MAX_IO];
    memset(gout, 0, sizeof gout);
    memset(gin, 0, sizeof gin);
    float *gbuf[8] = { 0 };
    for (int i = 0; i < nout; i++) {
        gout[i].shape = c.out[i].shape;
        gout[i].dtype = HL_DT_FLOAT;
        if (i == 1)
            continue;   /* an output nobody differentiates */
        int64_t k = hl_shape_numel(&c.out[i].shape);
        gbuf[i] = malloc(sizeof(float) * (size_t)(k + 1));
        rnd_fill(gbuf[i], k, -1, 1);
        gout[i].data = gbuf[i];
    }
    gin[0].shape = xs;
    gin[0].dtype = HL_DT_FLOAT;
    gin[0].data = malloc(sizeof(float) * (size_t)n);
    for (int64_t k = 0; k < n; k++)
        gin[0].data[k] = 0.5f;
    hl_op_ctx ctx;
    oc_ctx(&c, &ctx, test_pool_);
    c.op->backward(&c.node, &ctx, c.in, c.out, gout, gin);
    double err_b = 0;
    start = 0;
    for (int i = 0; i < nout; i++) {
        for (int64_t o = 0; o < outer; o++)
            for (int64_t k = 0; k < expect[i]; k++)
                for (int64_t q = 0; q < inner; q++) {
                    double g = gbuf[i] ? gbuf[i][(o * expect[i] + k) * inner + q] : 0.0;
                    err_b = fmax(err_b, fabs(gin[0].data[(o * xs.dims[a] + start + k) * inner + q] -
                                             (0.5 + g)));
                }
        start += expect[i];
    }
    tap_ok(err_b < 1e-6, "%s: backward = output gradients in place (max diff %.1e)",
           label, err_b);
    for (int i = 0; i < nout; i++)
        free(gbuf[i]);
    free(gin[0].data);
    oc_free(&c);
    free(x);
}

static void split_ops(void)
{
    static const int64_t e33[2] = { 3, 3 }, s24[2] = { 2, 4 },
                         s112[3] = { 1, 1, 2 }, e222[3] = { 2, 2, 2 },
                         e331[3] = { 3, 3, 1 }, s051[3] = { 0, 5, 1 };
    split_case("Split channels in 2 (ShuffleNet)", 13, S(2, 6, 4), 1, 2, 0,
               NULL, e33);
    split_case("Split attribute 'split' (opset 11)", 11, S(2, 6, 4), 1, 2, 1,
               s24, s24);
    split_case("Split input 'split' (opset 13), last axis", 13, S(2, 6, 4), -1,
               3, 2, s112, s112);
    split_case("Split axis 0 in 3", 13, S(6, 2, 3), 0, 3, 0, NULL, e222);
    split_case("Split zero-size part", 13, S(2, 6, 4), 1, 3, 2, s051, s051);
    split_case("Split opset 18 uneven parts", 18, S(2, 7, 3), 1, 3, 0, NULL,
               e331);
    {
        float x[42] = { 0 };
        tin ins[1] = { { .shape = S(2, 7, 3), .f = x } };
        attr_set as;
        as_reset(&as);
        as_int(&as, "axis", 1);
        check_error("Split 7 channels in 2 equal parts before opset 18",
                    "Split", 13, &as, 1, ins, 2, HL_ERR_SHAPE, "cannot split");
        int64_t bad[2] = { 3, 3 };
        as_ints(&as, "split", 2, bad);
        check_error("Split sizes not adding up", "Split", 11, &as, 1, ins, 2,
                    HL_ERR_SHAPE, "cannot split");
    }
}

int main(void)
{
    hl_engine_init();
    test_pool_ = hl_threadpool_new(2);
    split_ops();
    shape_only_ops();
    transpose_ops();
    concat_ops();
    pad_ops();
    gather_slice_ops();
    folds();
    table_checks();
    pool_checks();
    hl_threadpool_free(test_pool_);
    return tap_done();
}
