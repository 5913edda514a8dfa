#include "heatlens-neuron-probe.h"

gboolean
hl_neuron_probe_strongest (const float    *act,
                           const hl_shape *shape,
                           const char     *layer,
                           int             h,
                           int             w,
                           int            *channel,
                           float          *activation,
                           hl_error       *err)
{
  int64_t plane, at, n, n_top = 0;
  float top;

  if (act == NULL || shape->ndim != 4 || h < 0 || w < 0 ||
      h >= shape->dims[2] || w >= shape->dims[3])
    {
      hl_error_set (err, HL_ERR_SHAPE, "layer '%s' has no cell %d,%d", layer, h, w);
      return FALSE;
    }
  plane = shape->dims[2] * shape->dims[3];
  at = (int64_t) h * shape->dims[3] + w;
  n = shape->dims[1] * plane;
  top = act[0];

  /* A clipped activation (ReLU6) that sits at its ceiling has a zero
   * gradient: its neuron explains nothing. Ties at the layer's maximum are
   * taken as that ceiling and passed over. */
  for (int64_t i = 1; i < n; i++)
    top = MAX (top, act[i]);
  for (int64_t i = 0; i < n; i++)
    n_top += act[i] == top;
  *channel = -1;
  for (int64_t c = 0; c < shape->dims[1]; c++)
    {
      float a = act[c * plane + at];

      if (n_top > 1 && a == top)
        continue;
      if (*channel < 0 || a > *activation)
        {
          *channel = (int) c;
          *activation = a;
        }
    }
  if (*channel < 0)   /* all saturated: any will do */
    {
      *channel = 0;
      *activation = act[at];
    }
  return TRUE;
}
