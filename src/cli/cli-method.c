/* Method options from attr's descriptor table; target and layer checks. */
#include "cli-method.h"
#include "label_names.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int cli_method_option(cli_method_options *o, cli_args *a)
{
    if (strcmp(a->name, "target") == 0) {
        return (o->target = cli_args_value(a)) ? 1 : -1;
    }
    if (strcmp(a->name, "layer") == 0) {
        return (o->layer = cli_args_value(a)) ? 1 : -1;
    }
    const hl_param_desc *d = hl_param_find(a->name);
    if (!d)
        return 0;
    const char *v = d->type == HL_PARAM_BOOL ? cli_args_flag_value(a)
                                             : cli_args_value(a);
    if (!v)
        return -1;
    if (o->n == CLI_MAX_METHOD_OPTIONS) {
        cli_fail("too many method options");
        return -1;
    }
    o->items[o->n].desc = d;
    o->items[o->n].value = v;
    o->items[o->n].word = a->word;
    o->n++;
    return 1;
}

const hl_method_desc *cli_method_lookup(const char *name)
{
    const hl_method_desc *m = name ? hl_method_find(name) : NULL;
    if (!m) {
        if (name)
            cli_fail("unknown method '%s'; valid: %s", name, hl_method_names());
        else
            cli_fail("give a method with --method NAME; valid: %s",
                     hl_method_names());
    }
    return m;
}

int cli_method_uses(const hl_method_desc *m, const char *param)
{
    for (int i = 0; m->params && m->params[i]; i++)
        if (strcmp(m->params[i], param) == 0)
            return 1;
    return 0;
}

/* "--n-steps, --ig-method, ..." of the method's table parameters. */
static void method_param_list(const hl_method_desc *m, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; m->params && m->params[i] && len + 4 < size; i++) {
        if (strcmp(m->params[i], "target") == 0)
            continue;
        int w = snprintf(buf + len, size - len, "%s--%s", len ? ", " : "",
                         m->params[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len == 0)
        snprintf(buf, size, "none");
}

int cli_check_layer(const hl_model *model, const char *name)
{
    if (hl_model_find_value(model, name) >= 0)
        return 0;
    /* List the nodes a user would pick (convolutions and activations). */
    char valid[600] = "";
    size_t len = 0;
    int n = hl_model_num_nodes(model), listed = 0, more = 0;
    for (int i = 0; i < n; i++) {
        hl_node_info info;
        hl_model_node_info(model, i, &info);
        if (!(info.roles & HL_ROLE_CONV))
            continue;
        size_t need = strlen(info.name) + 2;
        if (len + need + 1 >= sizeof valid - 80) {
            more++;
            continue;
        }
        len += (size_t)snprintf(valid + len, sizeof valid - len, "%s%s",
                                listed ? ", " : "", info.name);
        listed++;
    }
    if (listed == 0)
        return cli_fail("unknown layer '%s'; this model has no Conv node "
                        "(see '%s layers' for all nodes)", name, CLI_PROG);
    return cli_fail("unknown layer '%s'; valid: %s%s (any node or output name "
                    "of '%s layers')", name, valid, more ? ", ..." : "",
                    CLI_PROG);
}

static int parse_target(const char *text, const cli_input *in, int *target)
{
    if (!text || strcmp(text, "auto") == 0) {
        *target = -1;
        return 1;
    }
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0') {
        /* A label is fine too, or any one of its synonyms, in any case:
         * "tabby", "Tabby Cat" */
        char why[512];
        int k = hl_label_find((const char *const *)in->labels, in->n_labels, text,
                              why, sizeof why);
        if (k >= 0) {
            *target = k;
            return 1;
        }
        cli_fail("--target: '%s' is not auto, a class index or a label: %s", text, why);
        return 0;
    }
    if (v < 0 || v >= in->n_classes) {
        cli_fail("--target: %ld is out of range; valid: auto or 0..%d", v,
                 in->n_classes - 1);
        return 0;
    }
    *target = (int)v;
    return 1;
}

int cli_method_request(const cli_method_options *o, const hl_method_desc *m,
                       const cli_input *in, const hl_attr_params *defaults,
                       hl_attr_request *r)
{
    hl_error err = {0};
    hl_attr_params params, *p = &params;
    memset(r, 0, sizeof *r);
    if (defaults)
        *p = *defaults;
    else
        hl_attr_params_init_for_method(p, m->name);
    if (o->target && !cli_method_uses(m, "target"))
        return cli_fail("--target does not apply to %s (it explains a layer "
                        "or neuron, not a class)", m->name);
    if (!parse_target(o->target, in, &p->target))
        return 1;
    for (int i = 0; i < o->n; i++) {
        const hl_param_desc *d = o->items[i].desc;
        if (!cli_method_uses(m, d->name)) {
            char list[512];
            method_param_list(m, list, sizeof list);
            return cli_fail("option --%s does not apply to %s; its options: %s",
                            d->name, m->name, list);
        }
        if (hl_param_set(p, d, o->items[i].value, &err) != HL_OK)
        {
            /* attr's messages already name the parameter. */
            if (err.msg[0] && strstr(err.msg, d->name))
                return cli_fail("%s", err.msg);
            return cli_fail("--%s: %s", d->name,
                            err.msg[0] ? err.msg : hl_status_name(err.status));
        }
    }
    if (o->layer) {
        if (!m->needs_layer)
            return cli_fail("--layer does not apply to %s (it attributes to "
                            "the input)", m->name);
        if (cli_check_layer(in->model, o->layer))
            return 1;
        snprintf(p->layer, sizeof p->layer, "%s", o->layer);
    }
    /* The library applies the policy (default layer) and reads the files
     * the options name, exactly as the window's worker does. */
    if (hl_attr_request_prepare(r, in->model, m->name, p, &err) != HL_OK)
        return cli_fail("%s: %s", m->name, err.msg);
    /* ... and the default neuron, as the window's parameter panel */
    hl_attr_params *rp = &r->params;
    if (m->needs_neuron && !rp->has_neuron) {
        if (hl_default_neuron(in->model, in->input, rp->layer, rp->neuron,
                              &err) != HL_OK) {
            hl_attr_request_clear(r);
            return cli_fail("%s: %s", m->name, err.msg);
        }
        rp->has_neuron = 1;
    }
    /* the library says when a request takes very many forwards */
    char note[640];
    if (hl_attr_request_cost_note(r, in->model, note, sizeof note))
        fprintf(stderr, "note: %s\n", note);
    return 0;
}

void cli_format_params(const hl_method_desc *m, const hl_attr_params *p,
                       char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; m->params && m->params[i] && len + 2 < size; i++) {
        const hl_param_desc *d = hl_param_find(m->params[i]);
        if (!d || strcmp(d->name, "target") == 0 || strcmp(d->name, "layer") == 0)
            continue;
        /* Leave out what has no effect on this run. */
        int nt_param = strcmp(d->name, "noise-tunnel") == 0 ||
                       strcmp(d->name, "nt-samples") == 0 ||
                       strcmp(d->name, "nt-stdevs") == 0;
        if (nt_param && p->noise_tunnel == HL_NT_NONE)
            continue;
        if (strcmp(d->name, "seed") == 0 && !m->stochastic &&
            p->noise_tunnel == HL_NT_NONE)
            continue;
        char value[256];
        hl_param_format(p, d, value, sizeof value);
        int w = snprintf(buf + len, size - len, "%s%s=%s", len ? " " : "",
                         d->name, value);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
}

/* The flag the methods poll; a CLI process runs one method at a time. */
static volatile int cancel_requested;

static void on_sigint(int sig)
{
    (void)sig;
    cancel_requested = 1;
    signal(SIGINT, SIG_DFL);   /* a second Ctrl-C ends the process */
}

const volatile int *cli_cancel_flag(void)
{
    signal(SIGINT, on_sigint);
    return &cancel_requested;
}

hl_image *cli_image_from_input(const hl_array *input, const hl_preprocess *pre)
{
    const hl_shape *s = &input->shape;
    if (s->ndim != 4 || s->dims[1] != 3)
        return NULL;
    int h = (int)s->dims[2], w = (int)s->dims[3];
    hl_image *img = hl_image_new(w, h);
    if (!img)
        return NULL;
    float scale = pre->scale > 0 ? pre->scale : 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) {
        int out_c = pre->bgr ? 2 - c : c;
        const float *plane = input->data + (int64_t)c * h * w;
        for (int64_t i = 0; i < (int64_t)h * w; i++) {
            double pixel = (plane[i] * pre->std[c] + pre->mean[c]) / scale;
            pixel = pixel < 0 ? 0 : pixel > 255 ? 255 : pixel;
            img->rgb[i * 3 + out_c] = (uint8_t)(pixel + 0.5);
        }
    }
    return img;
}
