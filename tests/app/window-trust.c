/* Cases of test-window: how far to trust the picture — the notice and the
 * convergence delta under it (issue 14). */
#include "window-harness.h"

/* Independent of notices.c: whether the loaded graph has a Relu node. */
static int
model_relu_count (void)
{
  const hl_model *m = hl_classifier_get_model (hl_window_get_classifier (h.win));
  int n = 0;

  for (int i = 0; i < hl_model_num_nodes (m); i++)
    {
      hl_node_info info;

      hl_model_node_info (m, i, &info);
      n += strcmp (info.op, "Relu") == 0;
    }
  return n;
}

static void
test_trust_notice (void)
{
  HlTrustBar *bar = hl_window_get_trust_bar (h.win);
  int relus = model_relu_count ();

  check (relus == 0, "the bundled model has no Relu node (%d): Guided Backprop is the gradient", relus);
  check (act_s_and_wait_result ("set-method", "guided_backprop"), "guided_backprop computes");
  check (strstr (hl_trust_bar_get_notice (bar), "plain gradient") != NULL,
         "its notice is under the picture: '%s'", hl_trust_bar_get_notice (bar));
  check (gtk_widget_get_visible (GTK_WIDGET (bar)) && gtk_widget_get_mapped (GTK_WIDGET (bar)),
         "and the line is on screen");
  check (hl_trust_bar_get_delta (bar)[0] == '\0', "guided_backprop has no convergence delta line");
  check (act_s_and_wait_result ("set-method", "saliency"), "saliency computes");
  check (hl_trust_bar_get_notice (bar)[0] == '\0', "saliency has no notice ('%s')",
         hl_trust_bar_get_notice (bar));
}

static void
test_trust_delta (void)
{
  HlTrustBar *bar = hl_window_get_trust_bar (h.win);
  HlResult *r;
  g_autofree char *pct = NULL;
  double rel;

  act_s ("set-method", "integrated_gradients");
  check (act_s_and_wait_result ("set-param", "n-steps=3"), "IG with 3 steps computes");
  r = hl_window_get_result (h.win);
  check (r && r->attr.has_delta && r->attr.delta_reference != 0, "it has a delta and F(x) - F(baseline)");
  if (!r || !r->attr.has_delta || r->attr.delta_reference == 0)
    return;
  rel = fabs (r->attr.delta) / fabs (r->attr.delta_reference);
  pct = g_strdup_printf ("%.2f%%", 100 * rel);
  check (strstr (hl_trust_bar_get_delta (bar), pct) && strstr (hl_trust_bar_get_delta (bar), "F(x) - F(baseline)"),
         "the delta line gives |delta| / |F(x) - F(baseline)| = %s: '%s'", pct,
         hl_trust_bar_get_delta (bar));
  check ((rel > 0.05) == (strstr (hl_trust_bar_get_delta (bar), "raise --n-steps") != NULL),
         "the 'raise n-steps' hint is there exactly when the delta is above 5%% (%.3g)", rel);
}

/* The overlay follows the method (the library's hl_viz_method_defaults)
 * until the user picks a sign; then the user's sign stays. Runs before
 * /window/overlay, while no sign has been chosen. */
void
window_test_method_defaults (void)
{
  const hl_viz_options *o = hl_window_get_overlay_options (h.win);
  const hl_viz_norm *norm;

  act_s ("set-method", "integrated_gradients");
  check (act_s_and_wait_result ("set-param", "n-steps=8"), "integrated_gradients shows");
  norm = hl_image_view_get_norm (hl_window_get_image_view (h.win));
  check (o->sign == HL_SIGN_ALL && o->cmap == HL_CMAP_RDWHGN && norm && hl_viz_norm_sign (norm) == HL_SIGN_ALL,
         "IG (signed) is shown with both signs on red-white-green (%s, %s)",
         hl_viz_sign_name (o->sign), hl_colormap_name (o->cmap));
  check (act_s_and_wait_result ("set-method", "layer_grad_cam"), "layer_grad_cam shows");
  check (o->sign == HL_SIGN_POSITIVE && o->cmap == HL_CMAP_INFERNO,
         "GradCAM shows its positive part (%s, %s)", hl_viz_sign_name (o->sign), hl_colormap_name (o->cmap));
  check (act_s_and_wait_result ("set-method", "saliency"), "saliency shows");
  norm = hl_image_view_get_norm (hl_window_get_image_view (h.win));
  check (o->sign == HL_SIGN_ABSOLUTE_VALUE && norm && hl_viz_norm_sign (norm) == HL_SIGN_ABSOLUTE_VALUE,
         "saliency shows the magnitude (%s)", hl_viz_sign_name (o->sign));
  act_s ("set-overlay", "sign=positive");
  check (act_s_and_wait_result ("set-method", "integrated_gradients"), "back to IG");
  check (o->sign == HL_SIGN_POSITIVE && o->cmap == HL_CMAP_RDWHGN,
         "the sign the user chose stays; the colormap still follows the method (%s, %s)",
         hl_viz_sign_name (o->sign), hl_colormap_name (o->cmap));
}

void
window_add_trust_tests (void)
{
  g_test_add_func ("/window/trust-notice", test_trust_notice);
  g_test_add_func ("/window/trust-delta", test_trust_delta);
}
