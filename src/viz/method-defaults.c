/* How each method's map is shown by default (viz.h, "per method"). The
 * method is named, not looked up: viz does not depend on attr; the test
 * (tests/viz/test-method-defaults.c) walks attr's method table so that a
 * new method is classified on purpose. */
#include <string.h>

#include "viz.h"

/* Maps whose values are magnitudes already (saliency is |gradient| by
 * default, Captum's abs=True). */
static const char *const magnitude_methods[] = { "saliency", NULL };

/* Maps whose positive part is the evidence for the class. */
static const char *const positive_methods[] = {
    "layer_grad_cam", "grad_cam_plus_plus", "xgrad_cam", "score_cam", "rise",
    NULL };

static int listed(const char *method, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(method, list[i]) == 0)
            return 1;
    return 0;
}

void hl_viz_method_defaults(const char *method, hl_viz_mode mode,
                            hl_viz_sign *sign, hl_colormap_id *cmap)
{
    hl_viz_sign s = HL_SIGN_ABSOLUTE_VALUE;
    hl_colormap_id c = HL_CMAP_DEFAULT;
    int shows_all = mode != HL_VIZ_MASKED_IMAGE && mode != HL_VIZ_ALPHA_SCALING;

    if (!method) {
        /* Captum's defaults */
    } else if (listed(method, magnitude_methods)) {
        c = HL_CMAP_BLUES;
    } else if (listed(method, positive_methods)) {
        s = HL_SIGN_POSITIVE;
        c = HL_CMAP_INFERNO;
    } else if (shows_all) {
        s = HL_SIGN_ALL;
        c = HL_CMAP_RDWHGN;
    } else {
        c = HL_CMAP_BLUES;
    }
    if (sign)
        *sign = s;
    if (cmap)
        *cmap = c;
}
