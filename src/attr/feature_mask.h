/* Feature masks: groups of input elements that the perturbation methods
 * (feature_ablation, shapley_value_sampling, lime, kernel_shap) switch
 * between the input and the baseline together.
 *
 * Specs (hl_attr_params.feature_mask):
 *   grid:N       N x N pixel squares, id = (y/N) * ceil(W/N) + x/N, the same
 *                id for every channel;
 *   slic:K[,M]   SLIC superpixels (slic.c) of the image, about K segments,
 *                compactness M (default 10);
 *   FILE.npy     integer ids (int32/int64/uint8), shape [H,W], [1,H,W],
 *                [C,H,W], [1,1,H,W] or [1,C,H,W]; a channel dimension of 1
 *                is broadcast over the channels as Captum does. The file
 *                is read by hl_attr_request_prepare; its ids reach the
 *                methods through the request (hl_feature_mask_from_ids).
 * Ids are compacted to 0..n_features-1 keeping their order, so a mask
 * whose ids are already 0..F-1 keeps them (Captum's feature order).
 */
#ifndef HL_FEATURE_MASK_H
#define HL_FEATURE_MASK_H

#include <stdint.h>
#include "attr.h"

typedef struct hl_feature_mask {
    int64_t numel;       /* C*H*W of the input */
    int n_features;
    int32_t *id;         /* [numel] feature of each input element */
    int64_t *start;      /* [n_features + 1] offsets into element[] */
    int64_t *element;    /* [numel] element indices grouped by feature,
                            ascending inside each group */
} hl_feature_mask;

/* Build the mask for `input` ([1,C,H,W]). ctx (may be NULL) gives the
 * 0..1 image and the normalisation for slic:K. */
hl_status hl_feature_mask_build(const char *spec, const hl_array *input,
                                const hl_attr_context *ctx,
                                hl_feature_mask *out, hl_error *err);
void hl_feature_mask_clear(hl_feature_mask *m);
/* A mask from integer ids already read (shape s, see FILE.npy above);
 * name is for messages. */
hl_status hl_feature_mask_from_ids(const int64_t *ids, const hl_shape *s,
                                   const char *name, const hl_array *input,
                                   hl_feature_mask *out, hl_error *err);
/* Bounding boxes of every feature in an H x W plane (an element e is at
 * e % (H * W), whatever its channel); *largest = the biggest (the first
 * of equal ones). NULL when out of memory; free() it. */
hl_box *hl_feature_mask_boxes(const hl_feature_mask *m, int64_t H, int64_t W,
                              hl_box *largest);
/* A mask of any values from one id per element (numel of them). */
hl_status hl_feature_mask_from_element_ids(const int64_t *ids, int64_t numel,
                                           hl_feature_mask *out, hl_error *err);
/* The features of a layer of shape s (batch 1, numel elements) as
 * params.layer_mask says (units, channels or the request's ids broadcast
 * to s as numpy does; Captum's layer_mask). */
hl_status hl_layer_mask_build(const hl_attr_request *r, const hl_shape *s,
                              hl_feature_mask *out, hl_error *err);
/* Does a --layer-mask file of shape ms broadcast to a layer of shape s? */
hl_status hl_layer_mask_check_shape(const hl_shape *ms, const hl_shape *s,
                                    const char *name, hl_error *err);
/* Does a mask of shape s fit an input [1,C,H,W]? *mask_c = its channels. */
hl_status hl_feature_mask_check_shape(const hl_shape *s, const char *name,
                                      int C, int H, int W, int *mask_c,
                                      hl_error *err);
/* The mask of a request: its file's ids, or its grid:N / slic:K spec. */
hl_status hl_feature_mask_for_request(const hl_attr_request *r,
                                      const hl_array *input,
                                      const hl_attr_context *ctx,
                                      hl_feature_mask *out, hl_error *err);

/* SLIC superpixels (Achanta et al., 2012) of a [C,H,W] image with values
 * in 0..1: CIELAB when C == 3 (sRGB assumed), grid seeds moved to the
 * lowest gradient of their 3x3 neighbourhood, 10 rounds of local k-means
 * with distance sqrt(d_colour^2 + (d_xy / S)^2 * compactness^2), then
 * connectivity enforcement (segments smaller than a quarter of the mean
 * size join a neighbour). labels[H*W] receives 0..n_labels-1; every
 * segment is 4-connected. */
hl_status hl_slic(const float *image, int channels, int height, int width,
                  int n_segments, double compactness, int32_t *labels,
                  int *n_labels, hl_error *err);

#endif
