/* ONNX backend conformance: the official node/pytorch test cases that
 * Debian ships in libonnx-testdata, for every case whose ops we support.
 *
 * Each case is a directory with model.onnx and test_data_set_N/ holding
 * input_<i>.pb and output_<i>.pb (serialized TensorProto). Non-float graph
 * inputs (Reshape's shape, Slice's starts...) become constants, float
 * inputs keep the exact shapes of the data. Outputs are compared like
 * ONNX's backend tests: |got - want| <= atol + rtol * |want|.
 *
 * TAP: one line per case. tests/data/engine/onnx-conformance-expected.txt
 * lists the cases that passed when it was written: such a case must pass,
 * whatever it fails with (a case that starts being rejected as unsupported
 * is a regression, not a skip), and a listed case missing from the data
 * fails too. Other cases with an op we do not implement are SKIP lines,
 * and so are those that fail to load with HL_ERR_UNSUPPORTED (an attribute
 * or type we reject cleanly rather than compute wrongly); a case that
 * passes without being listed says so in a diagnostic (add it).
 * HL_ONNX_TESTDATA overrides the data directory; HL_CONFORMANCE_FILTER
 * runs only the cases whose name contains it.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph.h"
#include "onnx.pb-c.h"
#include "tap.h"
#include "test-files.h"

#define RTOL 1e-3
#define ATOL 1e-4

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_filter(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

typedef struct tensor_list {
    int n;
    hl_tensor t[HL_MAX_IO * 2];
} tensor_list;

static void tensor_list_free(tensor_list *l)
{
    for (int i = 0; i < l->n; i++)
        hl_tensor_free_data(&l->t[i]);
    l->n = 0;
}

/* input_0.pb, input_1.pb, ... (or output_*) of a data set directory. */
static int read_tensors(const char *dir, const char *prefix, tensor_list *l,
                        char *why, size_t why_size)
{
    l->n = 0;
    for (int i = 0; i < HL_MAX_IO * 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%.4000s/%s_%d.pb", dir, prefix, i);
        if (!is_file(path))
            break;
        size_t len;
        unsigned char *buf = test_read_file(path, &len);
        if (!buf) {
            snprintf(why, why_size, "cannot read %.300s", path);
            return -1;
        }
        hl_error err = {0};
        hl_status st = hl_tensor_proto_read(buf, len, path, &l->t[l->n], NULL,
                                            &err);
        free(buf);
        if (st) {
            snprintf(why, why_size, "%s", err.msg);
            return st == HL_ERR_UNSUPPORTED ? 1 : -1;
        }
        l->n++;
    }
    return 0;
}

/* What the model file needs: every op known? Its non-initializer inputs. */
typedef struct case_info {
    char missing_op[128];
    int n_inputs;
    int input_is_float[HL_MAX_IO * 2];
    int input_elem_type[HL_MAX_IO * 2];
    char *input_names[HL_MAX_IO * 2];
} case_info;

static int inspect_model(const unsigned char *buf, size_t len, case_info *ci)
{
    memset(ci, 0, sizeof *ci);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return -1;
    }
    const Onnx__GraphProto *g = mp->graph;
    for (size_t k = 0; k < g->n_node && !ci->missing_op[0]; k++) {
        const char *op = g->node[k]->op_type;
        const char *dom = g->node[k]->domain;
        if ((dom && dom[0] && strcmp(dom, "ai.onnx") != 0) ||
            hl_op_index(op) < 0)
            snprintf(ci->missing_op, sizeof ci->missing_op, "%s%s%s",
                     dom && dom[0] ? dom : "", dom && dom[0] ? "." : "", op);
    }
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        int init = 0;
        for (size_t j = 0; j < g->n_initializer; j++)
            if (strcmp(g->initializer[j]->name, vi->name) == 0)
                init = 1;
        if (init || ci->n_inputs >= HL_MAX_IO * 2)
            continue;
        int et = 0;
        if (vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            vi->type->tensor_type && vi->type->tensor_type->has_elem_type)
            et = vi->type->tensor_type->elem_type;
        else if (!ci->missing_op[0])
            snprintf(ci->missing_op, sizeof ci->missing_op,
                     "(non-tensor graph input '%.60s')", vi->name);
        ci->input_elem_type[ci->n_inputs] = et;
        ci->input_is_float[ci->n_inputs] = et == 1;
        ci->input_names[ci->n_inputs] = strdup(vi->name);
        ci->n_inputs++;
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    return 0;
}

static void case_info_free(case_info *ci)
{
    for (int i = 0; i < ci->n_inputs; i++)
        free(ci->input_names[i]);
}

static int compare(const hl_tensor *got, const hl_tensor *want, char *why,
                   size_t why_size)
{
    if (!got) {
        snprintf(why, why_size, "output not computed");
        return 0;
    }
    if (!hl_shape_equal(&got->shape, &want->shape)) {
        char a[128], b[128];
        snprintf(why, why_size, "shape %s, expected %s",
                 hl_shape_format(&got->shape, a, sizeof a),
                 hl_shape_format(&want->shape, b, sizeof b));
        return 0;
    }
    int64_t n = hl_shape_numel(&want->shape);
    if (want->dtype == HL_DT_INT64) {
        if (got->dtype != HL_DT_INT64) {
            snprintf(why, why_size, "float output, expected int64");
            return 0;
        }
        for (int64_t i = 0; i < n; i++)
            if (got->i64[i] != want->i64[i]) {
                snprintf(why, why_size, "element %lld: %lld, expected %lld",
                         (long long)i, (long long)got->i64[i],
                         (long long)want->i64[i]);
                return 0;
            }
        return 1;
    }
    if (got->dtype != HL_DT_FLOAT) {
        snprintf(why, why_size, "int64 output, expected float");
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        double g = got->data[i], w = want->data[i];
        if (isnan(w) && isnan(g))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= ATOL + RTOL * fabs(w))) {
            snprintf(why, why_size, "element %lld: %.7g, expected %.7g",
                     (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}

enum { CASE_PASS, CASE_FAIL, CASE_SKIP_OP, CASE_SKIP_UNSUPPORTED };

/* The expectations file: case names, one a line ('#' starts a comment). */
typedef struct expected_set {
    int n;
    char **names;
    unsigned char *seen;
} expected_set;

static int expected_load(expected_set *e)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[4200];
    snprintf(path, sizeof path,
             "%.4000s/tests/data/engine/onnx-conformance-expected.txt",
             root && root[0] ? root : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        tap_ok(0, "cannot read %s", path);
        return -1;
    }
    char line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (e->n == cap) {
            cap = cap ? 2 * cap : 256;
            char **nn = realloc(e->names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            e->names = nn;
        }
        e->names[e->n++] = strdup(line);
    }
    fclose(f);
    e->seen = calloc((size_t)e->n + 1, 1);
    return e->seen ? 0 : -1;
}

/* Index of `name` in the expectations, or -1. */
static int expected_find(const expected_set *e, const char *name)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0)
            return i;
    return -1;
}

static void expected_free(expected_set *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->names[i]);
    free(e->names);
    free(e->seen);
}

/* One data set: load with its inputs bound/shaped, run, compare. */
static int run_data_set(const unsigned char *model, size_t model_len,
                        const char *case_name, const case_info *ci,
                        const char *ds_dir, char *why, size_t why_size)
{
    tensor_list ins = {0}, outs = {0};
    int rc = read_tensors(ds_dir, "input", &ins, why, why_size);
    if (rc == 0)
        rc = read_tensors(ds_dir, "output", &outs, why, why_size);
    if (rc) {
        tensor_list_free(&ins);
        tensor_list_free(&outs);
        return rc > 0 ? CASE_SKIP_UNSUPPORTED : CASE_FAIL;
    }
    int result = CASE_FAIL;
    for (int i = 0; i < ins.n && i < ci->n_inputs; i++) {
        int et = ci->input_elem_type[i];
        int declared_float = et == 1 || et == 10 || et == 11 || et == 16;
        if (declared_float != (ins.t[i].dtype == HL_DT_FLOAT)) {
            /* e.g. bfloat16 inputs stored as uint16 tensors */
            snprintf(why, why_size, "input %d is declared with ONNX type %d "
                     "but stored with another", i, et);
            result = CASE_SKIP_UNSUPPORTED;
            goto out;
        }
    }
    if (ins.n > ci->n_inputs) {
        snprintf(why, why_size, "%d input files for %d graph inputs", ins.n,
                 ci->n_inputs);
        goto out;
    }
    /* attempt 0: only non-float inputs become constants; attempt 1: every
     * input but the first (weights fed as inputs, as real models never do) */
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *bound_names[HL_MAX_IO * 2];
        hl_tensor bound[HL_MAX_IO * 2], feed[HL_MAX_IO * 2];
        hl_shape shapes[HL_MAX_IO * 2];
        int nb = 0, nf = 0;
        for (int i = 0; i < ins.n; i++) {
            int as_const = ins.t[i].dtype != HL_DT_FLOAT ||
                           !ci->input_is_float[i] || (attempt == 1 && nf > 0);
            if (as_const) {
                bound_names[nb] = ci->input_names[i];
                bound[nb++] = ins.t[i];
            } else {
                shapes[nf] = ins.t[i].shape;
                feed[nf++] = ins.t[i];
            }
        }
        if (nf == 0) {
            /* every input is a constant: feed nothing, outputs fold */
        }
        hl_load_options opt = {0};
        opt.n_bound = nb;
        opt.bound_names = bound_names;
        opt.bound = bound;
        opt.n_input_shapes = nf ? nf : 0;
        opt.input_shapes = shapes;
        hl_model *m = NULL;
        hl_error err = {0};
        hl_status st;
        if (nf == 0) {
            snprintf(why, why_size, "no float input");
            result = CASE_SKIP_UNSUPPORTED;
            break;
        }
        st = hl_model_load_onnx_ex(model, model_len, case_name, &opt, &m, &err);
        if (st == HL_ERR_UNSUPPORTED && attempt == 0 && nf > 1) {
            continue;
        }
        if (st) {
            snprintf(why, why_size, "load: %s", err.msg);
            result = st == HL_ERR_UNSUPPORTED ? CASE_SKIP_UNSUPPORTED
                                              : CASE_FAIL;
            break;
        }
        hl_run *r = hl_run_new(m, 1);
        st = hl_run_forward_inputs(r, nf, feed, &err);
        if (st) {
            snprintf(why, why_size, "forward: %s", err.msg);
            result = st == HL_ERR_UNSUPPORTED ? CASE_SKIP_UNSUPPORTED
                                              : CASE_FAIL;
        } else if (outs.n != m->n_outputs) {
            snprintf(why, why_size, "%d outputs, %d expected", m->n_outputs,
                     outs.n);
        } else {
            result = CASE_PASS;
            for (int o = 0; o < outs.n && result == CASE_PASS; o++) {
                char w[400];
                if (!compare(hl_run_tensor(r, m->outputs[o]), &outs.t[o], w,
                             sizeof w)) {
                    snprintf(why, why_size, "output %d: %s", o, w);
                    result = CASE_FAIL;
                }
            }
        }
        hl_run_free(r);
        hl_model_free(m);
        break;
    }
out:
    tensor_list_free(&ins);
    tensor_list_free(&outs);
    return result;
}

static int run_case(const char *dir, const char *name, char *why,
                    size_t why_size)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/model.onnx", dir);
    size_t len;
    unsigned char *model = test_read_file(path, &len);
    if (!model) {
        snprintf(why, why_size, "cannot read %.300s", path);
        return CASE_FAIL;
    }
    case_info ci;
    if (inspect_model(model, len, &ci)) {
        free(model);
        snprintf(why, why_size, "model.onnx does not parse");
        return CASE_FAIL;
    }
    int result = CASE_PASS;
    if (ci.missing_op[0]) {
        snprintf(why, why_size, "op %s not supported", ci.missing_op);
        result = CASE_SKIP_OP;
    } else {
        struct dirent **sets;
        int n = scandir(dir, &sets, dir_filter, alphasort);
        int n_sets = 0;
        for (int i = 0; i < n; i++) {
            if (result == CASE_PASS &&
                strncmp(sets[i]->d_name, "test_data_set_", 14) == 0) {
                char ds[4400];
                snprintf(ds, sizeof ds, "%.4000s/%.255s", dir, sets[i]->d_name);
                char w[900] = "";
                result = run_data_set(model, len, name, &ci, ds, w, sizeof w);
                if (result != CASE_PASS)
                    snprintf(why, why_size, "%.100s: %.900s", sets[i]->d_name, w);
                n_sets++;
            }
            free(sets[i]);
        }
        if (n >= 0)
            free(sets);
        if (n_sets == 0 && result == CASE_PASS) {
            snprintf(why, why_size, "no test data set");
            result = CASE_FAIL;
        }
    }
    case_info_free(&ci);
    free(model);
    return result;
}

int main(void)
{
    hl_engine_init();
    const char *root = getenv("HL_ONNX_TESTDATA");
    if (!root || !root[0])
        root = "/usr/share/libonnx-testdata/data";
    const char *filter = getenv("HL_CONFORMANCE_FILTER");
    if (!is_dir(root)) {
        tap_skip("ONNX test data not found at %s (Debian package "
                 "libonnx-testdata)", root);
        return tap_done();
    }
    expected_set expect = {0};
    if (expected_load(&expect))
        return tap_done();
    static const char *groups[] = {"node", "pytorch-converted",
                                   "pytorch-operator"};
    int supported = 0, passed = 0, skipped_attr = 0, skipped_op = 0,
        failed = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        char gdir[4096];
        snprintf(gdir, sizeof gdir, "%.3800s/%s", root, groups[g]);
        struct dirent **cases;
        int n = scandir(gdir, &cases, dir_filter, alphasort);
        if (n < 0) {
            tap_diag("no directory %s", gdir);
            continue;
        }
        for (int i = 0; i < n; i++) {
            char dir[4400], name[600], why[1400] = "";
            snprintf(dir, sizeof dir, "%.4000s/%.255s", gdir, cases[i]->d_name);
            snprintf(name, sizeof name, "%s/%s", groups[g], cases[i]->d_name);
            if ((filter && !strstr(name, filter)) || !is_dir(dir)) {
                free(cases[i]);
                continue;
            }
            int res = run_case(dir, name, why, sizeof why);
            int want = expected_find(&expect, name);
            if (want >= 0) {
                expect.seen[want] = 1;
                if (res != CASE_PASS && res != CASE_FAIL) {
                    /* was passing, now refused: a regression */
                    supported++;
                    failed++;
                    tap_ok(0, "%s: expected to pass: %s", name, why);
                    free(cases[i]);
                    continue;
                }
            } else if (res == CASE_PASS) {
                tap_diag("%s passes but is not in "
                         "onnx-conformance-expected.txt: add it", name);
            }
            switch (res) {
            case CASE_PASS:
                supported++;
                passed++;
                tap_ok(1, "%s", name);
                break;
            case CASE_FAIL:
                supported++;
                failed++;
                tap_ok(0, "%s: %s", name, why);
                break;
            case CASE_SKIP_OP:
                skipped_op++;
                tap_skip("%s: %s", name, why);
                break;
            default:
                supported++;
                skipped_attr++;
                tap_skip("%s: %s", name, why);
                break;
            }
            free(cases[i]);
        }
        free(cases);
    }
    int missing = 0;
    for (int i = 0; i < expect.n; i++)
        if (!expect.seen[i] && (!filter || strstr(expect.names[i], filter))) {
            missing++;
            tap_diag("expected case %s not found in %s", expect.names[i],
                     root);
        }
    tap_ok(missing == 0, "every expected case is in the test data (%d "
           "listed, %d missing)", expect.n, missing);
    expected_free(&expect);
    tap_diag("supported: %d cases, passed %d, rejected cleanly (unsupported "
             "attribute or type) %d, failed %d; %d cases skipped for "
             "unsupported ops", supported, passed, skipped_attr, failed,
             skipped_op);
    return tap_done();
}
