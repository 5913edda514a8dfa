/* hl_viz_method_defaults: every method of attr's table is classified on
 * purpose (a new method fails here until it is listed below with what its
 * map means), and the defaults are valid options for every mode
 * (hl_viz_check). The meaning of each method, as the issue (14) states it:
 * signed attributions show both signs; saliency is |gradient|; CAMs and
 * RISE show the evidence for the class, their positive part. */
#include <string.h>

#include "attr.h"
#include "tap.h"
#include "viz.h"

static const char *const magnitude[] = { "saliency", NULL };
static const char *const positive[] = {
    "layer_grad_cam", "grad_cam_plus_plus", "xgrad_cam", "score_cam", "rise", NULL };
/* signed: every gradient x input, path, DeepLift, SHAP, perturbation,
 * layer and neuron method not above */
static const char *const signed_maps[] = {
    "input_x_gradient", "guided_backprop", "deconvolution", "integrated_gradients",
    "deep_lift", "guided_grad_cam", "layer_activation", "layer_gradient_x_activation",
    "layer_conductance", "layer_integrated_gradients", "layer_deep_lift",
    "neuron_gradient", "neuron_integrated_gradients", "neuron_conductance",
    "neuron_guided_backprop", "occlusion", "feature_ablation",
    "shapley_value_sampling", "lime", "kernel_shap", "gradient_shap",
    "deep_lift_shap", "internal_influence", "layer_gradient_shap",
    "layer_deep_lift_shap", "layer_feature_ablation", "neuron_deconvolution",
    "neuron_deep_lift", "neuron_deep_lift_shap", "neuron_gradient_shap",
    "neuron_feature_ablation", "shapley_values", "blur_ig", "guided_ig", "lrp",
    "layer_lrp", NULL };

static int listed(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

int main(void)
{
    int unlisted = 0, wrong = 0, invalid = 0;
    for (int i = 0; i < hl_method_count(); i++) {
        const char *name = hl_method_get(i)->name;
        hl_viz_sign want;
        hl_colormap_id want_cmap;
        if (listed(name, magnitude))
            want = HL_SIGN_ABSOLUTE_VALUE, want_cmap = HL_CMAP_BLUES;
        else if (listed(name, positive))
            want = HL_SIGN_POSITIVE, want_cmap = HL_CMAP_INFERNO;
        else if (listed(name, signed_maps))
            want = HL_SIGN_ALL, want_cmap = HL_CMAP_RDWHGN;
        else {
            tap_diag("%s is not classified in this test", name);
            unlisted++;
            continue;
        }
        hl_viz_sign sign;
        hl_colormap_id cmap;
        hl_viz_method_defaults(name, HL_VIZ_BLENDED_HEAT_MAP, &sign, &cmap);
        if (sign != want || cmap != want_cmap) {
            tap_diag("%s: %s/%s, expected %s/%s", name, hl_viz_sign_name(sign),
                     hl_colormap_name(cmap), hl_viz_sign_name(want),
                     hl_colormap_name(want_cmap));
            wrong++;
        }
        for (int m = 0; m < HL_VIZ_N_MODES; m++) {
            hl_viz_options o;
            hl_error err = {0};
            hl_viz_options_init(&o);
            o.mode = (hl_viz_mode)m;
            hl_viz_method_defaults(name, o.mode, &o.sign, &o.cmap);
            if (hl_viz_check(NULL, &o, &err) != HL_OK) {
                tap_diag("%s under %s: %s", name, hl_viz_mode_name(o.mode), err.msg);
                invalid++;
            }
        }
    }
    tap_ok(hl_method_count() > 30 && unlisted == 0,
           "every one of the %d methods is classified here (%d not)",
           hl_method_count(), unlisted);
    tap_ok(wrong == 0, "each method's default sign and colormap is what its map means (%d wrong)",
           wrong);
    tap_ok(invalid == 0, "the defaults are valid options in every mode (%d invalid)", invalid);

    hl_viz_sign sign;
    hl_colormap_id cmap;
    hl_viz_method_defaults("integrated_gradients", HL_VIZ_MASKED_IMAGE, &sign, &cmap);
    tap_ok(sign == HL_SIGN_ABSOLUTE_VALUE,
           "masked_image cannot show 'all': a signed method gets absolute_value there");
    hl_viz_method_defaults(NULL, HL_VIZ_HEAT_MAP, &sign, &cmap);
    tap_ok(sign == HL_SIGN_ABSOLUTE_VALUE && cmap == HL_CMAP_DEFAULT,
           "no method: Captum's defaults (absolute_value, the sign's colormap)");
    return tap_done();
}
