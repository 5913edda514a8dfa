/* The teaching views under Xvfb, one GTest case per behaviour, on one
 * window at 1024x768 (a projector) with the bundled model and the cat:
 * the method explanations (every method of the registry, every key), the
 * IG path explorer (its probability curve against the engine run here on
 * interpolated inputs), the layer browser (grid, click -> neuron method),
 * search anywhere in the method and layer lists, presentation mode (no
 * widget wider than the window), all methods at once (one card each, the
 * same numbers as hl_attribute) and `heatlens --view ... --screenshot`.
 * Waits have a generous guard so a hang fails instead of blocking; no
 * check depends on how fast anything runs. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "heatlens-application.h"
#include "heatlens-data.h"
#include "heatlens-ig-path-view.h"
#include "heatlens-layer-browser.h"
#include "heatlens-map-texture.h"
#include "heatlens-method-help.h"
#include "heatlens-search-anywhere.h"
#include "heatlens-window.h"
#include "heatlens-window-teaching.h"
#include "heatlens-compare-layout.h"
#include "heatlens-colorbar.h"
#include "heatlens-image-view.h"
#include "image.h"
#include "preprocess.h"

#define GUARD_US (600 * G_USEC_PER_SEC)
#define WIDTH 1024
#define HEIGHT 768

static HlWindow *win;
static const char *heatlens_exe;
static char *tmpdir;
static guint n_predictions, n_results;
static HlResult *last_result;

static void prediction_cb (HlWindow *w, gpointer d) { n_predictions++; }
static void result_cb (HlWindow *w, HlResult *r, gpointer d) { n_results++; last_result = r; }

typedef gboolean (*Cond) (gpointer);

static gboolean
wait_for (Cond cond, gpointer data)
{
  gint64 end = g_get_monotonic_time () + GUARD_US;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static gboolean flag_set (gpointer p) { return *(gboolean *) p; }
static gboolean results_above (gpointer p) { return n_results > GPOINTER_TO_UINT (p); }
static gboolean predictions_above (gpointer p) { return n_predictions > GPOINTER_TO_UINT (p); }

/* A few frames so layout and drawing happen. */
static void
settle (void)
{
  for (int i = 0; i < 40; i++)
    g_main_context_iteration (NULL, FALSE);
  for (int i = 0; i < 10; i++)
    {
      g_usleep (10000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

static void
ready_cb (GtkWidget *view, gboolean *flag)
{
  *flag = TRUE;
}

static GtkWidget *
find_named (GtkWidget *w, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (w), name) == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found)
        return found;
    }
  return NULL;
}

/* Pixel standard deviation of a PNG: 0 for a blank picture. */
static double
png_stddev (const char *path, int *width, int *height)
{
  hl_image *img = NULL;
  double sum = 0, sum2 = 0, n;

  *width = *height = 0;
  if (hl_image_load (path, &img, NULL) != HL_OK)
    return 0;
  *width = img->width;
  *height = img->height;
  n = (double) img->width * img->height * 3;
  for (int i = 0; i < (int) n; i++)
    {
      sum += img->rgb[i];
      sum2 += (double) img->rgb[i] * img->rgb[i];
    }
  hl_image_free (img);
  return sqrt (fmax (sum2 / n - (sum / n) * (sum / n), 0));
}

/* The view as it is drawn now: a PNG of the expected size with content. */
static void
assert_drawn (GtkWidget *view, const char *name, int min_w, int min_h)
{
  g_autofree char *path = g_build_filename (tmpdir, name, NULL);
  g_autoptr(GError) error = NULL;
  int w, h;
  double sd;

  g_assert_true (hl_widget_save_png (view, path, &error));
  sd = png_stddev (path, &w, &h);
  g_test_message ("%s: %dx%d, pixel stddev %.1f", name, w, h, sd);
  g_assert_cmpint (w, >=, min_w);
  g_assert_cmpint (h, >=, min_h);
  g_assert_cmpfloat (sd, >, 10);
}

/* ------------------------------------------------------------ explanations */

static void
test_explanations_cover_registry (void)
{
  g_autoptr(GError) error = NULL;
  GKeyFile *texts = hl_method_help_get_texts (&error);
  g_auto(GStrv) groups = NULL;

  g_assert_no_error (error);
  for (int i = 0; i < hl_method_count (); i++)
    for (const char *const *k = hl_method_help_keys; *k; k++)
      {
        g_autofree char *text = g_key_file_get_string (texts, hl_method_get (i)->name, *k, NULL);

        if (text == NULL || strlen (text) < 8)
          g_error ("%s has no %s", hl_method_get (i)->name, *k);
      }
  groups = g_key_file_get_groups (texts, NULL);
  for (char **g = groups; *g; g++)
    if (hl_method_find (*g) == NULL)
      g_error ("data/methods/methods.ini explains '%s', which is no method", *g);
  g_assert_cmpuint (g_strv_length (groups), ==, (guint) hl_method_count ());
}

static void
test_explain_view_draws (void)
{
  HlMethodHelp *help = HL_METHOD_HELP (hl_window_open_view (win, "explain", NULL));
  GtkWidget *formula, *title;

  g_assert_nonnull (help);
  gtk_window_present (GTK_WINDOW (help));
  for (int i = 0; i < hl_method_count (); i++)
    {
      hl_method_help_set_method (help, hl_method_get (i)->name);
      title = find_named (GTK_WIDGET (help), "help-title");
      formula = find_named (GTK_WIDGET (help), "help-formula");
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (title)), ==, hl_method_get (i)->title);
      /* the markup parsed (a broken one leaves the label empty) */
      g_assert_cmpuint (strlen (gtk_label_get_text (GTK_LABEL (formula))), >, 3);
    }
  hl_method_help_set_method (help, "integrated_gradients");
  settle ();
  assert_drawn (GTK_WIDGET (help), "explain.png", 400, 300);
  /* one per window, following the method chosen */
  g_assert_true (GTK_WINDOW (help) == hl_window_open_view (win, "explain", NULL));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("occlusion"));
  g_assert_cmpstr (hl_method_help_get_method (help), ==, "occlusion");
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("saliency"));
  gtk_window_destroy (GTK_WINDOW (help));
  /* closed: the next one is new (a stale pointer would fail the check) */
  help = HL_METHOD_HELP (hl_window_open_view (win, "explain", NULL));
  g_assert_true (HL_IS_METHOD_HELP (help));
  g_assert_cmpstr (hl_method_help_get_method (help), ==, "saliency");
  gtk_window_destroy (GTK_WINDOW (help));
}

/* ------------------------------------------------------------ IG path */

static double
engine_prob (const hl_model *m, const hl_array *x, double alpha, int target)
{
  int64_t n = hl_shape_numel (&x->shape);
  g_autofree float *pt = g_new (float, n);
  hl_run *run = hl_run_new (m, 0);
  double mx, sum = 0, p = NAN;
  hl_shape s;

  /* the zero baseline: b + alpha (x - b) = alpha x */
  for (int64_t i = 0; i < n; i++)
    pt[i] = (float) alpha * x->data[i];
  if (hl_run_forward (run, pt, 1, NULL) == HL_OK)
    {
      const float *l = hl_run_value (run, hl_model_output_value (m), &s);
      int64_t k = hl_shape_numel (&s);

      mx = l[0];
      for (int64_t i = 1; i < k; i++)
        mx = fmax (mx, l[i]);
      for (int64_t i = 0; i < k; i++)
        sum += exp (l[i] - mx);
      p = exp (l[target] - mx) / sum;
    }
  hl_run_free (run);
  return p;
}

static hl_array *
cat_input (HlClassifier *c)
{
  g_autofree char *path = hl_data_find_sample ("cat");
  hl_image *photo = NULL;
  hl_array *input = NULL;

  g_assert_cmpint (hl_image_load (path, &photo, NULL), ==, HL_OK);
  g_assert_cmpint (hl_preprocess_apply (hl_classifier_get_preprocess (c), photo, &input, NULL, NULL, NULL), ==, HL_OK);
  hl_image_free (photo);
  return input;
}

static void
test_ig_path_curve_is_the_model (void)
{
  gboolean ready = FALSE;
  HlIgPathView *view = HL_IG_PATH_VIEW (hl_window_open_view (win, "ig-path", NULL));
  HlClassifier *c = hl_window_get_classifier (win);
  const hl_ig_path *path;
  hl_array *x = cat_input (c);
  double worst = 0;

  g_assert_nonnull (view);
  g_signal_connect (view, "ready", G_CALLBACK (ready_cb), &ready);
  gtk_window_present (GTK_WINDOW (view));
  g_assert_true (wait_for (flag_set, &ready));
  path = hl_ig_path_view_get_path (view);
  g_assert_nonnull (path);
  g_assert_cmpint (path->target, ==, hl_window_get_target (win));
  g_assert_cmpint (path->n_steps, ==, 50);
  for (int i = 0; i < path->n_curve; i++)
    worst = fmax (worst, fabs (engine_prob (hl_classifier_get_model (c), x, path->curve_alpha[i], path->target) - path->curve_prob[i]));
  for (int k = 0; k < path->n_steps; k += 7)
    worst = fmax (worst, fabs (engine_prob (hl_classifier_get_model (c), x, (float) path->step_alpha[k], path->target) - path->step_prob[k]));
  g_test_message ("IG path: %d curve points and 8 steps, max |p - engine| = %.2e", path->n_curve, worst);
  g_assert_cmpfloat (worst, <, 1e-5);
  /* at alpha 1 the class is the top-1 with the window's probability */
  g_assert_cmpfloat (fabs (path->curve_prob[path->n_curve - 1] - engine_prob (hl_classifier_get_model (c), x, 1.0, path->target)), <, 1e-6);

  hl_ig_path_view_set_step (view, 0);
  g_assert_cmpint (hl_ig_path_view_get_step (view), ==, 0);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (view), "ig-path-step-label"))),
                                   "Step 1 of 50"));
  hl_ig_path_view_set_step (view, 12);
  settle ();
  assert_drawn (GTK_WIDGET (view), "ig-path.png", 600, 500);
  hl_array_free (x);
  gtk_window_destroy (GTK_WINDOW (view));
}

/* ------------------------------------------------------------ layers */

static void
test_layer_browser_grid_and_click (void)
{
  gboolean ready = FALSE;
  HlLayerBrowser *browser = HL_LAYER_BROWSER (hl_window_open_view (win, "layers", NULL));
  const hl_layer_channels *lc;
  GtkWidget *grid;
  int shown = 0, c;
  guint from = n_results;
  g_autofree char *neuron = NULL;

  g_assert_nonnull (browser);
  g_signal_connect (browser, "ready", G_CALLBACK (ready_cb), &ready);
  gtk_window_present (GTK_WINDOW (browser));
  g_assert_true (wait_for (flag_set, &ready));
  lc = hl_layer_browser_get_channels (browser);
  g_assert_nonnull (lc);
  grid = find_named (GTK_WIDGET (browser), "layer-browser-grid");
  for (GtkWidget *t = gtk_widget_get_first_child (grid); t; t = gtk_widget_get_next_sibling (t))
    shown++;
  g_assert_cmpint (shown, ==, MIN (lc->channels, HL_LAYER_BROWSER_MAX_CHANNELS));
  settle ();
  assert_drawn (GTK_WIDGET (browser), "layers.png", 600, 400);

  /* a mid layer by name, then a click on its strongest channel */
  g_assert_true (hl_layer_browser_set_layer (browser, "MobilenetV2/expanded_conv_6/expand/Relu6"));
  ready = FALSE;
  g_assert_true (wait_for (flag_set, &ready));
  lc = hl_layer_browser_get_channels (browser);
  g_assert_nonnull (lc);
  c = lc->order[0];
  hl_layer_browser_activate (browser, 0);
  g_assert_cmpstr (hl_window_get_method (win), ==, "neuron_guided_backprop");
  g_assert_true (wait_for (results_above, GUINT_TO_POINTER (from)));
  g_assert_cmpstr (last_result->method, ==, "neuron_guided_backprop");
  g_assert_cmpstr (last_result->params.layer, ==, "MobilenetV2/expanded_conv_6/expand/Relu6");
  neuron = g_strdup_printf ("%d,%d,%d", last_result->params.neuron[0], last_result->params.neuron[1],
                            last_result->params.neuron[2]);
  g_test_message ("clicked channel %d -> neuron %s", c, neuron);
  g_assert_cmpint (last_result->params.neuron[0], ==, c);
  g_assert_cmpint (last_result->params.neuron[1] * lc->width + last_result->params.neuron[2], ==, lc->peak[c]);

  /* search anywhere in the layer list */
  g_assert_cmpuint (hl_drop_down_search_count (GTK_DROP_DOWN (find_named (GTK_WIDGET (browser), "layer-browser-layer")),
                                               "expanded_conv_6"), >=, 3);
  gtk_window_destroy (GTK_WINDOW (browser));
}

/* ------------------------------------------------------------ search */

static void
test_method_search_matches_anywhere (void)
{
  GtkDropDown *dd = GTK_DROP_DOWN (find_named (GTK_WIDGET (win), "method-dropdown"));
  guint gradcam, upper, none, all;

  g_assert_nonnull (dd);
  gradcam = hl_drop_down_search_count (dd, "gradcam");
  upper = hl_drop_down_search_count (dd, "GRADIENTS");
  none = hl_drop_down_search_count (dd, "zzqx");
  all = hl_drop_down_search_count (dd, "");
  g_test_message ("method search: gradcam %u, GRADIENTS %u, zzqx %u, '' %u", gradcam, upper, none, all);
  /* every method whose title has GradCAM in it (Layer GradCAM, Guided
   * GradCAM, GradCAM++, XGradCAM, ...), counted here from the registry */
  {
    guint want = 0;

    for (int i = 0; i < hl_method_count (); i++)
      {
        g_autofree char *lower = g_ascii_strdown (hl_method_get (i)->title, -1);

        want += strstr (lower, "gradcam") != NULL;
      }
    g_assert_cmpuint (want, >=, 2);
    g_assert_cmpuint (gradcam, ==, want);
  }
  /* Integrated Gradients, Layer and Neuron Integrated Gradients, in capitals */
  g_assert_cmpuint (upper, >=, 3);
  g_assert_cmpuint (none, ==, 0);
  g_assert_cmpuint (all, ==, (guint) hl_method_count ());
}

/* ------------------------------------------------------------ presenting */

static void
check_inside (GtkWidget *w, int width, int height, int *n_checked, GString *bad)
{
  graphene_rect_t r;

  if (!gtk_widget_get_mapped (w))
    return;
  /* (the window's own bounds hold its shadow, and the header bar's 1px
   * border overlaps the frame: 2px of slack) */
  if (w != GTK_WIDGET (win) && gtk_widget_compute_bounds (w, GTK_WIDGET (win), &r))
    {
      (*n_checked)++;
      if (r.size.width > width + 2 || r.origin.x + r.size.width > width + 2 || r.origin.x < -2)
        g_string_append_printf (bad, " %s[%s] x=%.0f w=%.0f;", G_OBJECT_TYPE_NAME (w),
                                gtk_widget_get_name (w), r.origin.x, r.size.width);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    check_inside (c, width, height, n_checked, bad);
}

/* Labels that may ellipsize: shown whole (Pango did not cut them). */
static void
check_not_cut (GtkWidget *w, int *n_checked, GString *cut)
{
  if (!gtk_widget_get_mapped (w))
    return;
  if (GTK_IS_LABEL (w) && gtk_label_get_ellipsize (GTK_LABEL (w)) != PANGO_ELLIPSIZE_NONE &&
      *gtk_label_get_text (GTK_LABEL (w)))
    {
      (*n_checked)++;
      if (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (w))))
        g_string_append_printf (cut, " '%s' (%d px wide);", gtk_label_get_text (GTK_LABEL (w)),
                                gtk_widget_get_width (w));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    check_not_cut (c, n_checked, cut);
}

/* The y of every control of the overlay bar (drop-downs, spin button,
 * scale): one value when they sit in one row. */
static void
collect_control_rows (GtkWidget *w, GArray *ys)
{
  graphene_rect_t r;

  if (!gtk_widget_get_mapped (w))
    return;
  if ((GTK_IS_DROP_DOWN (w) || GTK_IS_SPIN_BUTTON (w) || GTK_IS_SCALE (w)) &&
      gtk_widget_compute_bounds (w, GTK_WIDGET (win), &r))
    {
      float mid = r.origin.y + r.size.height / 2;

      g_array_append_val (ys, mid);
      return;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    collect_control_rows (c, ys);
}

/* The whole window in one state at 1024x768: it is no wider than the
 * screen, nothing reaches past its edge, the header title is whole and the
 * overlay bar's controls sit in one row (a flow box wrapped them). */
static void
check_window_fits (const char *state, int *overlay_height)
{
  g_autoptr(GString) bad = g_string_new (NULL);
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (float));
  GtkWidget *overlay = find_named (GTK_WIDGET (win), "overlay-controls");
  GtkWidget *title = find_named (GTK_WIDGET (win), "window-title");
  int n = 0, width = gtk_widget_get_width (GTK_WIDGET (win));
  float spread = 0;

  check_inside (GTK_WIDGET (win), width, HEIGHT, &n, bad);
  g_assert_nonnull (overlay);
  g_assert_nonnull (title);
  collect_control_rows (overlay, ys);
  for (guint i = 1; i < ys->len; i++)
    spread = fmaxf (spread, fabsf (g_array_index (ys, float, i) - g_array_index (ys, float, 0)));
  g_test_message ("%s: window %d px wide, %d widgets checked;%s title '%s'%s, "
                  "%u overlay controls, rows %.0f px apart, overlay bar %d px high",
                  state, width, n, bad->len ? bad->str : " none past the edge,",
                  gtk_label_get_text (GTK_LABEL (title)),
                  pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (title))) ? " (cut)" : "",
                  ys->len, spread, gtk_widget_get_height (gtk_widget_get_parent (overlay)));
  g_assert_cmpint (width, <=, WIDTH);
  g_assert_cmpint (n, >, 20);
  g_assert_cmpuint (bad->len, ==, 0);
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (title))));
  g_assert_cmpuint (ys->len, ==, 5);
  /* (centres differ by a few pixels between a scale and a drop-down; a
   * second row would be a control's height, 30 px and more, away) */
  g_assert_cmpfloat (spread, <, 10);
  /* the same height whatever the method: the picture does not jump */
  if (*overlay_height < 0)
    *overlay_height = gtk_widget_get_height (gtk_widget_get_parent (overlay));
  g_assert_cmpint (gtk_widget_get_height (gtk_widget_get_parent (overlay)), ==, *overlay_height);
}

/* The Xvfb screen is 1024x768 (tests/app/meson.build) and so is the
 * window's default size: the window itself must fit, with the sidebar
 * and in presentation mode, for the methods with the longest panels and
 * the widest overlay choices. */
static void
test_window_fits_1024x768 (void)
{
  static const char *const methods[] = {
    "saliency", "layer_grad_cam", "gradient_shap", "neuron_integrated_gradients", "occlusion" };
  int heights[2] = { -1, -1 };

  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("view"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-overlay", g_variant_new_string ("sign=absolute_value"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-overlay", g_variant_new_string ("cmap=coolwarm"));
  for (int presenting = 0; presenting < 2; presenting++)
    {
      hl_window_set_presenting (win, presenting);
      for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
        {
          g_autofree char *state = g_strdup_printf ("%s%s", methods[i], presenting ? ", presenting" : "");

          g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string (methods[i]));
          settle ();
          check_window_fits (state, &heights[presenting]);
        }
    }
  hl_window_set_presenting (win, FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-overlay", g_variant_new_string ("sign=all"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-overlay", g_variant_new_string ("cmap=default"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("saliency"));
  settle ();
}

static void
test_presenting_fits_1024x768 (void)
{
  g_autoptr(GString) bad = g_string_new (NULL);
  int n = 0, width;

  /* the lesson's usual state: a method on the photo, the pointer away */
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("integrated_gradients"));
  g_assert_true (wait_for (results_above, GUINT_TO_POINTER (n_results)));
  hl_window_set_presenting (win, TRUE);
  settle ();
  g_assert_true (hl_window_get_presenting (win));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (win), "sidebar")));
  g_test_message ("window %dx%d", gtk_widget_get_width (GTK_WIDGET (win)), gtk_widget_get_height (GTK_WIDGET (win)));
  /* the window's content: 1024 less the frame GTK draws around it */
  width = gtk_widget_get_width (GTK_WIDGET (win));
  g_assert_cmpint (width, <=, WIDTH);
  g_assert_cmpint (width, >, WIDTH - 40);
  check_inside (GTK_WIDGET (win), width, HEIGHT, &n, bad);
  g_test_message ("%d widgets checked;%s", n, bad->len ? bad->str : " none wider than the window");
  g_assert_cmpint (n, >, 20);
  g_assert_cmpuint (bad->len, ==, 0);
  n = 0;
  check_not_cut (GTK_WIDGET (win), &n, bad);
  g_test_message ("%d ellipsizing labels;%s", n, bad->len ? bad->str : " none cut");
  g_assert_cmpuint (bad->len, ==, 0);
  {
    /* a view opened while presenting is large too, and whole */
    gboolean ready = FALSE;
    GtkWindow *view = hl_window_open_view (win, "ig-path", NULL);

    g_signal_connect (view, "ready", G_CALLBACK (ready_cb), &ready);
    gtk_window_present (view);
    g_assert_true (wait_for (flag_set, &ready));
    settle ();
    g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (view), "presenting"));
    n = 0;
    check_not_cut (GTK_WIDGET (view), &n, bad);
    g_test_message ("IG path view: %d ellipsizing labels;%s", n, bad->len ? bad->str : " none cut");
    g_assert_cmpint (n, >=, 4);
    g_assert_cmpuint (bad->len, ==, 0);
    gtk_window_destroy (view);
  }
  assert_drawn (GTK_WIDGET (win), "present.png", WIDTH - 40, 600);
  g_action_group_activate_action (G_ACTION_GROUP (win), "sidebar", NULL);
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (win), "sidebar")));
  hl_window_set_presenting (win, FALSE);
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (win), "sidebar")));
  g_assert_false (hl_window_get_presenting (win));
}

/* ------------------------------------------------------------ all methods */

static gboolean
all_done (gpointer p)
{
  return hl_window_all_methods_done (win) == g_strv_length ((char **) hl_window_all_methods);
}

static void
count_named (GtkWidget *w, const char *name, int *n)
{
  if (!gtk_widget_get_mapped (w))
    return;
  *n += g_strcmp0 (gtk_widget_get_name (w), name) == 0;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    count_named (c, name, n);
}

/* The comparison as laid out: the cards fill the width of their pane
 * (the block of cards spans it, to the rounding of equal columns) or its
 * height, their
 * target captions are whole, and the colour bars are one per card or,
 * shared, one per sign the cards are drawn with (each method's sign,
 * hl_viz_method_defaults, counted here over the pinned methods). */
static void
check_compare_cards (guint n_pins, gboolean shared)
{
  HlCompareGrid *grid = hl_window_get_compare_grid (win);
  GtkWidget *cards = find_named (GTK_WIDGET (grid), "compare-cards");
  double left = G_MAXDOUBLE, right = -G_MAXDOUBLE, bottom = 0;
  int n_cards = 0, own_bars = 0, shared_bars = 0, n_signs = 0, cut = 0;
  gboolean seen[HL_SIGN_N] = { FALSE };

  g_assert_nonnull (cards);
  for (GtkWidget *c = gtk_widget_get_first_child (cards); c; c = gtk_widget_get_next_sibling (c))
    {
      graphene_rect_t r;
      GtkWidget *caption = find_named (c, "compare-card-caption");

      g_assert_true (gtk_widget_compute_bounds (c, cards, &r));
      left = fmin (left, r.origin.x);
      right = fmax (right, r.origin.x + r.size.width);
      bottom = fmax (bottom, r.origin.y + r.size.height);
      n_cards++;
      if (caption && pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (caption))))
        {
          g_test_message ("cut caption: '%s'", gtk_label_get_text (GTK_LABEL (caption)));
          cut++;
        }
    }
  for (guint i = 0; i < n_pins; i++)
    {
      hl_viz_sign sign;
      hl_colormap_id cmap;

      hl_viz_method_defaults (hl_compare_grid_get_pin (grid, i)->method,
                              hl_window_get_overlay_options (win)->mode, &sign, &cmap);
      n_signs += !seen[sign];
      seen[sign] = TRUE;
    }
  count_named (GTK_WIDGET (grid), "compare-card-colorbar", &own_bars);
  count_named (GTK_WIDGET (grid), "compare-shared-colorbar", &shared_bars);
  g_test_message ("compare: %d cards in %d columns over x %.0f..%.0f of %d px, y 0..%.0f of %d px, "
                  "%d cut captions, %d card colour bars, %d shared ones for %d signs",
                  n_cards, hl_compare_grid_get_columns (grid), left, right,
                  gtk_widget_get_width (cards), bottom, gtk_widget_get_height (cards),
                  cut, own_bars, shared_bars, n_signs);
  g_assert_cmpint (n_cards, ==, (int) n_pins + 1);
  /* the whole width, or (larger cards in fewer columns) the whole height
   * less what one narrowing step of the layout leaves */
  g_assert_true ((left <= HL_COMPARE_GAP && right >= gtk_widget_get_width (cards) - HL_COMPARE_GAP) ||
                 bottom >= 0.9 * gtk_widget_get_height (cards));
  g_assert_cmpint (cut, ==, 0);
  g_assert_cmpint (own_bars, ==, shared ? 0 : (int) n_pins);
  g_assert_cmpint (shared_bars, ==, shared ? n_signs : 0);
}

static void
test_all_methods_fill_the_grid (void)
{
  HlClassifier *c = hl_window_get_classifier (win);
  hl_array *x = cat_input (c);
  guint n = g_strv_length ((char **) hl_window_all_methods);

  g_assert_nonnull (hl_window_open_view (win, "all-methods", NULL));
  g_assert_true (wait_for (all_done, NULL));
  g_assert_cmpuint (hl_compare_grid_get_n_pins (hl_window_get_compare_grid (win)), ==, n);
  /* one card per method, in order, each with the numbers hl_attribute
   * (what heatlens-cli explain runs) gives for its parameters; occlusion
   * is left out only for its cost (hundreds of forwards) */
  for (guint i = 0; i < n; i++)
    {
      HlResult *r = hl_compare_grid_get_pin (hl_window_get_compare_grid (win), i);
      hl_attr_result want = { 0 };
      hl_error err = { 0 };
      double worst = 0, scale = 0;
      int64_t k;

      g_assert_cmpstr (r->method, ==, hl_window_all_methods[i]);
      g_assert_cmpint (r->attr.target, ==, hl_window_get_target (win));
      if (strcmp (r->method, "occlusion") == 0)
        continue;
      g_assert_cmpint (hl_attribute (hl_classifier_get_model (c), r->method, x, &r->params, NULL, &want, &err), ==, HL_OK);
      k = hl_shape_numel (&want.attr->shape);
      g_assert_cmpint (k, ==, hl_shape_numel (&r->attr.attr->shape));
      for (int64_t j = 0; j < k; j++)
        {
          worst = fmax (worst, fabs (want.attr->data[j] - r->attr.attr->data[j]));
          scale = fmax (scale, fabs (want.attr->data[j]));
        }
      g_test_message ("%s: max |card - hl_attribute| = %.2e (of %.2e)", r->method, worst, scale);
      /* (the same code on the same input; threads split sums differently) */
      g_assert_cmpfloat (worst, <=, 1e-5 * fmax (scale, 1e-6));
      hl_attr_result_clear (&want);
    }
  settle ();
  assert_drawn (GTK_WIDGET (win), "all-methods.png", WIDTH - 40, 600);
  check_compare_cards (n, TRUE);
  hl_array_free (x);
}

/* Pinned by hand: each card has its own colour bar, the map's raw
 * values under the normalised ones. */
static void
test_compare_cards_own_colorbars (void)
{
  HlCompareGrid *grid = hl_window_get_compare_grid (win);

  hl_compare_grid_clear (grid);
  g_assert_false (hl_compare_grid_get_shared_colorbars (grid));
  for (int i = 0; i < 2; i++)
    {
      /* a method other than the one shown, so a result comes */
      const char *method = i == 0 && g_strcmp0 (hl_window_get_method (win), "deconvolution") != 0
                           ? "deconvolution" : "input_x_gradient";
      guint from = n_results;

      g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string (method));
      g_assert_true (wait_for (results_above, GUINT_TO_POINTER (from)));
      g_action_group_activate_action (G_ACTION_GROUP (win), "pin", NULL);
    }
  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("compare"));
  settle ();
  check_compare_cards (2, FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("view"));
}

/* The export dialog's names: the photo, the method of the result shown
 * and its class (first synonym), in lower case with "_" for spaces; the
 * comparison counts its methods. */
static void
test_export_names (void)
{
  HlResult *r = hl_window_get_result (win);
  HlCompareGrid *grid = hl_window_get_compare_grid (win);
  g_autofree char *view = hl_window_export_name (win, FALSE, ".png");
  g_autofree char *npy = hl_window_export_name (win, FALSE, ".npy");
  g_autofree char *grid_name = hl_window_export_name (win, TRUE, ".png");
  g_autofree char *want_view = NULL, *want_grid = NULL;

  g_assert_nonnull (r);
  /* the cat shown as "Egyptian cat" (class 285 of the bundled labels) */
  g_assert_true (g_str_has_prefix (r->target_label, "Egyptian cat"));
  want_view = g_strdup_printf ("cat-%s-egyptian_cat.png", r->method);
  want_grid = g_strdup_printf ("cat-%u_methods-egyptian_cat-compare.png", hl_compare_grid_get_n_pins (grid));
  g_test_message ("export names: %s, %s, %s", view, npy, grid_name);
  g_assert_cmpstr (view, ==, want_view);
  g_assert_true (g_str_has_suffix (npy, "-egyptian_cat.npy"));
  g_assert_cmpuint (hl_compare_grid_get_n_pins (grid), >=, 2);
  g_assert_cmpstr (grid_name, ==, want_grid);
}

/* The cat is wider than the model's square crop: the dimmed frame
 * around the crop carries its label, in a band of the frame (outside the
 * crop's rectangle on screen, computed here from the crop map). */
static void
test_outside_label (void)
{
  HlImageView *view = hl_window_get_image_view (win);
  const hl_crop_map *m = hl_image_view_get_crop_map (view);
  graphene_rect_t band, crop;
  gboolean vertical = FALSE;
  double fit, ox, oy;
  const hl_image *img;
  int w, h;

  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("view"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "zoom-fit", NULL);
  settle ();
  g_assert_nonnull (m);
  g_assert_true (hl_image_view_get_outside_label (view, &band, &vertical));
  /* the photo fitted into the view with an 8 px margin, centred (zoom 1) */
  img = hl_photo_get_image (hl_window_get_photo (win));
  w = gtk_widget_get_width (GTK_WIDGET (view));
  h = gtk_widget_get_height (GTK_WIDGET (view));
  fit = fmin ((w - 16.0) / img->width, (h - 16.0) / img->height);
  ox = (w - img->width * fit) / 2;
  oy = (h - img->height * fit) / 2;
  crop = GRAPHENE_RECT_INIT ((float) (ox + m->x0 * fit), (float) (oy + m->y0 * fit),
                             (float) (m->input_width * m->sx * fit), (float) (m->input_height * m->sy * fit));
  g_test_message ("'%s' in band x %.0f y %.0f %.0fx%.0f%s; crop x %.0f y %.0f %.0fx%.0f",
                  HL_IMAGE_VIEW_OUTSIDE_LABEL, band.origin.x, band.origin.y, band.size.width,
                  band.size.height, vertical ? " (turned)" : "", crop.origin.x, crop.origin.y,
                  crop.size.width, crop.size.height);
  g_assert_true (band.size.width > 10 && band.size.height > 10);
  /* the band and the crop share no more than their edge */
  {
    graphene_rect_t inter;

    if (graphene_rect_intersection (&band, &crop, &inter))
      g_assert_cmpfloat (inter.size.width * inter.size.height, <, 2 * fmax (band.size.width, band.size.height));
  }
  g_assert_true (band.origin.x >= -1 && band.origin.x + band.size.width <= w + 1);
}

/* GradientSHAP's sidebar: N samples 0 reads as the default it stands for
 * (5, Captum's), and the empty Baselines field says the Baseline is used. */
static void
test_sidebar_special_values (void)
{
  GtkWidget *spin, *baselines;

  g_action_group_change_action_state (G_ACTION_GROUP (win), "auto-run", g_variant_new_boolean (FALSE));
  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("view"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("gradient_shap"));
  settle ();
  spin = find_named (GTK_WIDGET (win), "n-samples");
  baselines = find_named (GTK_WIDGET (win), "baselines");
  g_assert_nonnull (spin);
  g_assert_nonnull (baselines);
  g_test_message ("N samples reads '%s', Baselines placeholder '%s'",
                  gtk_editable_get_text (GTK_EDITABLE (spin)),
                  gtk_entry_get_placeholder_text (GTK_ENTRY (baselines)));
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin)), ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "default (5)");
  g_assert_nonnull (strstr (gtk_entry_get_placeholder_text (GTK_ENTRY (baselines)), "Baseline"));
  /* a number typed reads as the number */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 12);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "12");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (spin)), ==, "default (5)");
  g_action_group_change_action_state (G_ACTION_GROUP (win), "auto-run", g_variant_new_boolean (TRUE));
}

static void
other_prediction_cb (HlWindow *w, gboolean *flag)
{
  *flag = TRUE;
}

static void
other_result_cb (HlWindow *w, HlResult *r, gboolean *flag)
{
  *flag = TRUE;
}

/* `heatlens --model M --method layer_activation --param layer=L --view
 * layers`, in process: the layer asked for before the model has loaded is
 * the one explained and the one the layer browser opens on. */
static void
test_layer_param_survives_model_load (void)
{
  const char *layer = "MobilenetV2/expanded_conv_6/expand/Relu6";
  HlWindow *other = hl_window_new (GTK_APPLICATION (gtk_window_get_application (GTK_WINDOW (win))));
  g_autofree char *model = hl_data_default_model ();
  g_autofree char *cat_path = hl_data_find_sample ("cat");
  g_autoptr(GFile) cat = g_file_new_for_path (cat_path);
  g_autoptr(GError) error = NULL;
  gboolean predicted = FALSE, explained = FALSE, ready = FALSE;
  HlLayerBrowser *browser;

  g_signal_connect (other, "prediction-shown", G_CALLBACK (other_prediction_cb), &predicted);
  g_signal_connect (other, "result-shown", G_CALLBACK (other_result_cb), &explained);
  hl_window_open_model (other, model);
  g_assert_true (hl_window_set_method (other, "layer_activation", &error));
  g_assert_true (hl_window_set_param (other, "layer", layer, &error));
  hl_window_open_image (other, cat);
  g_assert_true (wait_for (flag_set, &predicted));
  g_assert_true (wait_for (flag_set, &explained));
  g_test_message ("layer_activation explained %s", hl_window_get_result (other)->params.layer);
  g_assert_cmpstr (hl_window_get_result (other)->params.layer, ==, layer);
  browser = HL_LAYER_BROWSER (hl_window_open_view (other, "layers", &error));
  g_assert_no_error (error);
  g_signal_connect (browser, "ready", G_CALLBACK (ready_cb), &ready);
  gtk_window_present (GTK_WINDOW (browser));
  g_assert_true (wait_for (flag_set, &ready));
  g_test_message ("the layer browser opens on %s", hl_layer_browser_get_layer (browser));
  g_assert_cmpstr (hl_layer_browser_get_layer (browser), ==, layer);
  gtk_window_destroy (GTK_WINDOW (browser));
  gtk_window_destroy (GTK_WINDOW (other));
}

/* The colour bar's numbers: "%g" of the normalised ticks and "%.3g" of
 * threshold times them, computed here; a negative map's threshold is
 * negative, and its 0 tick reads "0", not "-0". */
static void
test_colorbar_ticks (void)
{
  GtkWidget *bar = g_object_ref_sink (hl_colorbar_new ());
  static const double thresholds[] = { -0.25, 0.1577, 3 };

  for (int s = 0; s < HL_SIGN_N; s++)
    for (guint t = 0; t < G_N_ELEMENTS (thresholds); t++)
      {
        double vmin = s == HL_SIGN_ALL ? -1 : 0;

        hl_colorbar_set_scale (HL_COLORBAR (bar), (hl_viz_sign) s, HL_CMAP_DEFAULT, thresholds[t], FALSE);
        for (int i = 0; i < 5; i++)
          {
            double tick = vmin + (1 - vmin) * i / 4;
            char want[32];

            g_snprintf (want, sizeof want, "%.3g", fabs (thresholds[t] * tick) < 1e-300 ? 0.0 : thresholds[t] * tick);
            g_assert_cmpstr (hl_colorbar_get_tick (HL_COLORBAR (bar), 1, i), ==, want);
            g_assert_false (g_str_equal (hl_colorbar_get_tick (HL_COLORBAR (bar), 0, i), "-0"));
            g_assert_false (g_str_equal (hl_colorbar_get_tick (HL_COLORBAR (bar), 1, i), "-0"));
          }
      }
  /* no raw row without a threshold, or for a zero map */
  hl_colorbar_set_scale (HL_COLORBAR (bar), HL_SIGN_ALL, HL_CMAP_DEFAULT, 0, FALSE);
  g_assert_null (hl_colorbar_get_tick (HL_COLORBAR (bar), 1, 0));
  g_assert_cmpstr (hl_colorbar_get_tick (HL_COLORBAR (bar), 0, 0), ==, "-1");
  hl_colorbar_set_scale (HL_COLORBAR (bar), HL_SIGN_ALL, HL_CMAP_DEFAULT, 2, TRUE);
  g_assert_null (hl_colorbar_get_tick (HL_COLORBAR (bar), 1, 0));
  g_object_unref (bar);
}

/* ------------------------------------------------------------ labels */

static void
scan_labels (GtkWidget *w, int *short_shown, int *long_shown, int *long_tips)
{
  if (GTK_IS_LABEL (w) && gtk_widget_get_mapped (w))
    {
      const char *text = gtk_label_get_text (GTK_LABEL (w));

      *short_shown += strstr (text, "dragonfly") != NULL;
      *long_shown += strstr (text, "darning needle") != NULL;
    }
  if (gtk_widget_get_mapped (w) && gtk_widget_get_tooltip_text (w) &&
      strstr (gtk_widget_get_tooltip_text (w), "darning needle"))
    (*long_tips)++;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
    scan_labels (c, short_shown, long_shown, long_tips);
}

static gboolean
result_for_dragonfly (gpointer p)
{
  return last_result && strstr (last_result->target_label, "dragonfly") && n_results > GPOINTER_TO_UINT (p);
}

/* The dragonfly's label lists eight synonyms: the window shows the first,
 * the whole label is in tooltips. */
static void
test_long_labels_shortened (void)
{
  int short_shown = 0, long_shown = 0, long_tips = 0;

  hl_window_set_presenting (win, FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string ("view"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("saliency"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "load-sample", g_variant_new_string ("dragonfly"));
  g_assert_true (wait_for (result_for_dragonfly, GUINT_TO_POINTER (n_results)));
  settle ();
  scan_labels (GTK_WIDGET (win), &short_shown, &long_shown, &long_tips);
  g_test_message ("labels naming the dragonfly %d, with its synonyms %d, tooltips with them %d",
                  short_shown, long_shown, long_tips);
  g_assert_cmpint (short_shown, >=, 3);
  g_assert_cmpint (long_shown, ==, 0);
  g_assert_cmpint (long_tips, >=, 1);
}

/* ------------------------------------------------------------ command line */

static void
run_view (const char *view, const char *name, int min_w, int min_h)
{
  g_autofree char *shot = g_build_filename (tmpdir, name, NULL);
  g_autofree char *cat = hl_data_find_sample ("cat");
  const char *args[] = { heatlens_exe, "--image", cat, "--view", view, "--present",
                         "--window-size", "1024x768", "--screenshot", shot, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1, w, h;
  double sd;

  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  sd = png_stddev (shot, &w, &h);
  g_test_message ("heatlens --view %s: %dx%d, stddev %.1f", view, w, h, sd);
  g_assert_cmpint (w, >=, min_w);
  g_assert_cmpint (h, >=, min_h);
  g_assert_cmpfloat (sd, >, 10);
}

static void
test_cli_view_explain (void)
{
  if (heatlens_exe == NULL)
    g_test_skip ("no heatlens executable given");
  else
    run_view ("explain", "cli-explain.png", 400, 300);
}

static void
test_cli_view_layers (void)
{
  if (heatlens_exe == NULL)
    g_test_skip ("no heatlens executable given");
  else
    run_view ("layers", "cli-layers.png", 600, 400);
}

static void
test_cli_view_unknown (void)
{
  g_autofree char *err = NULL;
  const char *args[] = { heatlens_exe, "--view", "blackboard", NULL };
  int status = -1;

  if (heatlens_exe == NULL)
    {
      g_test_skip ("no heatlens executable given");
      return;
    }
  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status, NULL);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "--view: unknown view 'blackboard' (valid: explain, ig-path"));
  {
    g_auto(GStrv) lines = g_strsplit (g_strstrip (err), "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_autoptr(HlApplication) app = NULL;
  g_autofree char *model = NULL;
  int status;

  hl_engine_init ();
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  heatlens_exe = argc > 1 ? argv[1] : NULL;
  tmpdir = g_dir_make_tmp ("heatlens-teaching-XXXXXX", NULL);
  app = hl_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  model = hl_data_default_model ();
  if (model == NULL)
    {
      g_test_skip ("bundled model missing");
      return 0;
    }
  win = hl_window_new (GTK_APPLICATION (app));
  g_signal_connect (win, "prediction-shown", G_CALLBACK (prediction_cb), NULL);
  g_signal_connect (win, "result-shown", G_CALLBACK (result_cb), NULL);
  gtk_window_set_default_size (GTK_WINDOW (win), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (win));
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("saliency"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "load-model", g_variant_new_string (model));
  g_action_group_activate_action (G_ACTION_GROUP (win), "load-sample", g_variant_new_string ("cat"));
  if (!wait_for (predictions_above, GUINT_TO_POINTER (0)) || !wait_for (results_above, GUINT_TO_POINTER (0)))
    g_error ("no prediction or first result for the cat");

  g_test_add_func ("/teaching/explanations/cover-every-method", test_explanations_cover_registry);
  g_test_add_func ("/teaching/explain/opens-and-draws", test_explain_view_draws);
  g_test_add_func ("/teaching/ig-path/curve-is-the-model", test_ig_path_curve_is_the_model);
  g_test_add_func ("/teaching/layers/grid-and-click", test_layer_browser_grid_and_click);
  g_test_add_func ("/teaching/search/method-anywhere", test_method_search_matches_anywhere);
  g_test_add_func ("/teaching/present/fits-1024x768", test_presenting_fits_1024x768);
  g_test_add_func ("/teaching/all-methods/fill-the-grid", test_all_methods_fill_the_grid);
  g_test_add_func ("/teaching/compare/cards-own-colorbars", test_compare_cards_own_colorbars);
  g_test_add_func ("/teaching/colorbar/ticks", test_colorbar_ticks);
  g_test_add_func ("/teaching/export/names", test_export_names);
  g_test_add_func ("/teaching/view/outside-label", test_outside_label);
  g_test_add_func ("/teaching/sidebar/special-values", test_sidebar_special_values);
  g_test_add_func ("/teaching/layers/param-survives-model-load", test_layer_param_survives_model_load);
  /* (after all-methods: it sets the sign, which is then the user's) */
  g_test_add_func ("/teaching/window/fits-1024x768", test_window_fits_1024x768);
  g_test_add_func ("/teaching/labels/first-synonym-shown", test_long_labels_shortened);
  g_test_add_func ("/teaching/cli/view-explain", test_cli_view_explain);
  g_test_add_func ("/teaching/cli/view-layers", test_cli_view_layers);
  g_test_add_func ("/teaching/cli/view-unknown", test_cli_view_unknown);
  status = g_test_run ();
  gtk_window_destroy (GTK_WINDOW (win));
  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);

        g_unlink (p);
      }
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return status;
}
