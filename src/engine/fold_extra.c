/* The runtime's own plan-time evaluation of int64 tensors, for ops whose
 * table entry has no fold() (see hl_node_evaluate in run.c). */
#include <string.h>

#include "graph.h"

hl_status hl_fold_extra(const hl_node *n, const hl_tensor *in, hl_tensor *out,
                        hl_error *err)
{
    (void)in;
    (void)out;
    return hl_error_set(err, HL_ERR_UNSUPPORTED,
                        "no plan-time evaluation for %s", n->op_type);
}
