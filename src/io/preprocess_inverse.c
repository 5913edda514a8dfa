/* Model input -> picture (see preprocess_inverse.h). */
#include <math.h>

#include "preprocess_inverse.h"

void hl_preprocess_to_image(const hl_preprocess *p, const float *input,
                            hl_image *out)
{
    const int channels = p->channels == 1 ? 1 : 3;
    const int64_t hw = (int64_t)out->width * out->height;
    const double scale = p->scale > 0 ? p->scale : 1.0 / 255.0;
    for (int64_t i = 0; i < hw; i++)
        for (int rgb = 0; rgb < 3; rgb++) {
            /* the model's channel holding this RGB channel */
            int c = channels == 1 ? 0 : p->bgr ? 2 - rgb : rgb;
            double v = ((double)input[c * hw + i] * p->std[c] + p->mean[c]) / scale;
            v = floor(v + 0.5);
            out->rgb[i * 3 + rgb] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

void hl_image01_to_image(const float *image01, int channels, hl_image *out)
{
    const int64_t hw = (int64_t)out->width * out->height;
    for (int64_t i = 0; i < hw; i++)
        for (int rgb = 0; rgb < 3; rgb++) {
            double v = floor((double)image01[(channels == 1 ? 0 : rgb) * hw + i] * 255.0 + 0.5);
            out->rgb[i * 3 + rgb] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}
