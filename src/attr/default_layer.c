/* The layer a layer or neuron method explains when the user names none:
 * one rule for the CLI, the report and the window (docs/
 * gradient-path-layer-methods.md, "The default layer").
 *
 * 1. Main path only. A node's output is on the main path when every path
 *    from the graph input to the output runs through it: in the node list
 *    (topological order) no value made before the node is still read after
 *    it. A residual block's output (after its Add) qualifies; the layers
 *    inside the block and its skip path (ResNet's downsample conv) do not,
 *    because the block input is read again by the Add.
 * 2. Block outputs. Among those, the outputs of activations and of merges
 *    (Add, Sum, Concat with two or more computed inputs); a merge whose only
 *    reader is an activation gives way to that activation (Add + ReLU).
 *    Only [N,C,H,W] outputs of at least 7x7.
 * 3. Depth. The last of them whose resolution is finer than the network's
 *    final feature map: the output of the last stage before the final
 *    downsampling (ResNet-18: layer3[1], the block Captum's tutorial uses;
 *    MobileNet V2: the last 14x14 block). When the network never
 *    downsamples, the one nearest the middle of the list.
 * A model with no such output falls back to the main-path node, then any
 * node, of at least 7x7 nearest the middle of the network.
 */
#include "attr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct graph_view {
    const hl_model *m;
    int n;                 /* nodes */
    hl_node_info *info;    /* [n] */
    int *last_use;         /* [values] last node reading it; n = the output */
    int *readers;          /* [values] how many nodes read it */
    int *first_reader;     /* [values] one node reading it */
    unsigned char *main;   /* [n] output on the main path */
} graph_view;

static void view_free(graph_view *g)
{
    free(g->info);
    free(g->last_use);
    free(g->readers);
    free(g->first_reader);
    free(g->main);
}

static int computed_inputs(const graph_view *g, int i)
{
    int k = 0;
    for (int j = 0; j < g->info[i].n_inputs; j++) {
        int v = g->info[i].inputs[j];
        k += v >= 0 && hl_model_value_is_computed(g->m, v);
    }
    return k;
}

static hl_status view_build(graph_view *g, const hl_model *m, hl_error *err)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->n = hl_model_num_nodes(m);
    int nv = hl_model_num_values(m);
    g->info = calloc((size_t)g->n + 1, sizeof *g->info);
    g->last_use = malloc(((size_t)nv + 1) * sizeof *g->last_use);
    g->readers = calloc((size_t)nv + 1, sizeof *g->readers);
    g->first_reader = malloc(((size_t)nv + 1) * sizeof *g->first_reader);
    g->main = calloc((size_t)g->n + 1, 1);
    if (!g->info || !g->last_use || !g->readers || !g->first_reader || !g->main) {
        view_free(g);
        return hl_error_set(err, HL_ERR_NOMEM, "%s: out of memory",
                            hl_model_name(m));
    }
    for (int v = 0; v < nv; v++)
        g->last_use[v] = g->first_reader[v] = -1;
    for (int i = 0; i < g->n; i++) {
        hl_model_node_info(m, i, &g->info[i]);
        for (int j = 0; j < g->info[i].n_inputs; j++) {
            int v = g->info[i].inputs[j];
            if (v < 0 || v >= nv || !hl_model_value_is_computed(m, v))
                continue;
            g->last_use[v] = i;
            if (g->readers[v]++ == 0)
                g->first_reader[v] = i;
        }
    }
    int out = hl_model_output_value(m);
    if (out >= 0 && out < nv)
        g->last_use[out] = g->n;
    /* Main path: nothing made before node i is read after it. */
    int in = hl_model_input_value(m);
    int reach = in >= 0 && in < nv ? g->last_use[in] : -1;
    for (int i = 0; i < g->n; i++) {
        int v = g->info[i].output;
        int used = v >= 0 && v < nv && g->last_use[v] > i;
        g->main[i] = used && reach <= i;
        if (used && g->last_use[v] > reach)
            reach = g->last_use[v];
    }
    return HL_OK;
}

static int spatial(const hl_node_info *info, int min_side)
{
    return info->shape.ndim == 4 && info->shape.dims[2] >= min_side &&
           info->shape.dims[3] >= min_side;
}

/* A block output of rule 2 (before the 7x7 limit). */
static int block_output(const graph_view *g, int i)
{
    const hl_node_info *info = &g->info[i];
    if (!g->main[i] || !spatial(info, 2))
        return 0;
    if ((info->roles & HL_ROLE_MERGE)) {
        if (computed_inputs(g, i) < 2)
            return 0;
    } else if (!(info->roles & HL_ROLE_ACTIVATION)) {
        return 0;
    }
    int v = info->output;
    if (g->readers[v] == 1 && g->last_use[v] < g->n &&
        (g->info[g->first_reader[v]].roles & HL_ROLE_ACTIVATION))
        return 0;   /* Add + ReLU: the ReLU is the block output */
    return 1;
}

static int64_t area(const hl_node_info *info)
{
    return info->shape.dims[2] * info->shape.dims[3];
}

/* Rule 3 over the block outputs; -1 when there are none of 7x7. */
static int pick_block(const graph_view *g)
{
    int last = -1, n_big = 0;
    for (int i = 0; i < g->n; i++)
        if (block_output(g, i)) {
            last = i;
            n_big += spatial(&g->info[i], 7);
        }
    if (n_big == 0)
        return -1;
    int64_t final_area = area(&g->info[last]);
    int best = -1;
    for (int i = 0; i < g->n; i++)
        if (block_output(g, i) && spatial(&g->info[i], 7) &&
            area(&g->info[i]) > final_area)
            best = i;
    if (best >= 0)
        return best;
    /* One resolution throughout: the middle block output. */
    int k = 0;
    for (int i = 0; i < g->n; i++)
        if (block_output(g, i) && spatial(&g->info[i], 7) && k++ == n_big / 2)
            return i;
    return -1;
}

/* The fallback: the node of at least 7x7 nearest the middle of the
 * network, on the main path when one is. */
static int pick_middle(const graph_view *g, int main_only)
{
    double middle = (g->n - 1) / 2.0, best_dist = 0;
    int best = -1;
    for (int i = 0; i < g->n; i++) {
        if (!spatial(&g->info[i], 7) || (main_only && !g->main[i]))
            continue;
        double dist = i > middle ? i - middle : middle - i;
        if (best < 0 || dist < best_dist) {
            best = i;
            best_dist = dist;
        }
    }
    return best;
}

hl_status hl_default_layer(const hl_model *m, char *name, size_t size,
                           hl_error *err)
{
    graph_view g;
    hl_status st = view_build(&g, m, err);
    if (st != HL_OK)
        return st;
    int pick = pick_block(&g);
    if (pick < 0)
        pick = pick_middle(&g, 1);
    if (pick < 0)
        pick = pick_middle(&g, 0);
    if (pick >= 0)
        snprintf(name, size, "%s", g.info[pick].name);
    view_free(&g);
    if (pick < 0)
        return hl_error_set(err, HL_ERR_ARG,
                            "%s: no layer of at least 7x7 to explain by "
                            "default; name one (see 'heatlens-cli layers')",
                            hl_model_name(m));
    return HL_OK;
}
