/* Copies of a model whose weights can be re-initialised, for the
 * model-randomisation sanity check (src/attr/sanity.c; Adebayo et al.,
 * "Sanity Checks for Saliency Maps", NeurIPS 2018). */
#ifndef HL_MODEL_RANDOMIZE_H
#define HL_MODEL_RANDOMIZE_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A copy of `m` that shares its graph (nodes, names, shapes) and owns
 * its weights table: re-initialising a layer of the copy leaves `m`
 * untouched. Free it with hl_model_free before `m`. */
hl_status hl_model_copy_weights(const hl_model *m, hl_model **out,
                                hl_error *err);

/* Whether node `index` (hl_model_node_info order) has a weight: a float
 * constant input of at least 2 dimensions (Conv, Gemm, MatMul, ...). */
int hl_model_node_has_weights(const hl_model *m, int index);

/* Re-initialises every float constant input of node `index` with more
 * than one element (weights and bias) of a copy: Gaussian, mean 0, with
 * the standard deviation the tensor had (so activations keep their scale;
 * an all-constant tensor is left as it is), drawn from `seed`. */
hl_status hl_model_randomize_node(hl_model *copy, int index, uint64_t seed,
                                  hl_error *err);

#ifdef __cplusplus
}
#endif
#endif
