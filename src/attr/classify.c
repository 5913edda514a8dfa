/* Classification, one rule for the CLI, the report and the window: what
 * the model's output is (logits, probabilities or log-probabilities) is
 * decided once from the graph, never from the numbers (a logit vector can
 * sum to one by chance; a Softmax output always does). */
#include "attr.h"

#include <math.h>
#include <string.h>

/* The node that produces value v, or -1. */
static int producer_of(const hl_model *m, int v)
{
    for (int i = hl_model_num_nodes(m) - 1; i >= 0; i--) {
        hl_node_info info;
        hl_model_node_info(m, i, &info);
        if (info.output == v)
            return i;
    }
    return -1;
}

/* Ops that only change the shape of the class scores ([1,K] <-> [1,K,1,1])
 * and keep their values: the rule looks through them. */
hl_output_kind hl_model_output_kind(const hl_model *m)
{
    int v = hl_model_output_value(m);
    for (int guard = 0; guard < 8; guard++) {
        int node = producer_of(m, v);
        if (node < 0)
            return HL_OUTPUT_LOGITS;
        hl_node_info info;
        hl_model_node_info(m, node, &info);
        if (info.roles & HL_ROLE_SOFTMAX)
            return HL_OUTPUT_PROBABILITIES;
        if (info.roles & HL_ROLE_LOG_SOFTMAX)
            return HL_OUTPUT_LOG_PROBABILITIES;
        if (!(info.roles & HL_ROLE_RESHAPE) || info.n_inputs < 1)
            return HL_OUTPUT_LOGITS;
        v = info.inputs[0];
    }
    return HL_OUTPUT_LOGITS;
}

const char *hl_output_kind_name(hl_output_kind kind)
{
    switch (kind) {
    case HL_OUTPUT_PROBABILITIES: return "probabilities";
    case HL_OUTPUT_LOG_PROBABILITIES: return "log-probabilities";
    default: return "logits";
    }
}

hl_status hl_class_probabilities(const hl_model *m, const float *out, int n,
                                 double *prob, hl_error *err)
{
    if (!out || n < 1)
        return hl_error_set(err, HL_ERR_ARG, "%s: the model produced no output",
                            hl_model_name(m));
    for (int i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return hl_error_set(err, HL_ERR_ARG,
                                "%s: the model output is not finite (NaN or "
                                "Inf) for this input (class %d)",
                                hl_model_name(m), i);
    switch (hl_model_output_kind(m)) {
    case HL_OUTPUT_PROBABILITIES:
        for (int i = 0; i < n; i++)
            prob[i] = out[i];
        return HL_OK;
    case HL_OUTPUT_LOG_PROBABILITIES:
        for (int i = 0; i < n; i++)
            prob[i] = exp((double)out[i]);
        return HL_OK;
    default:
        break;
    }
    /* softmax in double, shifted by the max */
    double mx = out[0], sum = 0;
    for (int i = 1; i < n; i++)
        if (out[i] > mx)
            mx = out[i];
    for (int i = 0; i < n; i++)
        sum += prob[i] = exp((double)out[i] - mx);
    for (int i = 0; i < n; i++)
        prob[i] /= sum;
    return HL_OK;
}

void hl_top_k(const double *prob, int n, int k, int *order)
{
    if (k > n)
        k = n;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int t = 0; t < j && !taken; t++)
                taken = order[t] == i;
            if (!taken && (best < 0 || prob[i] > prob[best]))
                best = i;
        }
        order[j] = best;
    }
}
