/* From the model's input back to a picture: what a model input (the photo,
 * a baseline, a point on the IG path) looks like. The inverse of
 * hl_preprocess_apply's normalisation: pixel[c] = (x[c] * std[c] + mean[c])
 * / scale, back to RGB order for BGR models, grey to three equal channels
 * for 1-channel models, rounded and clipped to 0..255.
 */
#ifndef HL_PREPROCESS_INVERSE_H
#define HL_PREPROCESS_INVERSE_H

#include "preprocess.h"

/* input: [C,H,W] floats with C = p->channels, H = out->height, W =
 * out->width; out: an image of that size. */
void hl_preprocess_to_image(const hl_preprocess *p, const float *input,
                            hl_image *out);

/* image01 ([C,H,W] in 0..1, RGB or grey for C = 1, as hl_preprocess_apply
 * returns it) -> out (H x W), rounded and clipped. */
void hl_image01_to_image(const float *image01, int channels, hl_image *out);

#endif
