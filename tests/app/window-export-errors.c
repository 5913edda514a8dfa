/* Cases of test-window: pinning and exporting, error banners, the
 * target, the clipboard, the parameter panel, settings and bad input. */
#include "window-harness.h"

/* ------------------------------------------------------------ comparing and exporting */

static void
test_pin_compare (void)
{
  act ("pin", NULL);
  act_s ("set-method", "integrated_gradients");
  act_s_and_wait_result ("set-param", "n-steps=8");
  act ("pin", NULL);
  act ("pin", NULL);   /* same result twice: pinned once */
  check (hl_compare_grid_get_n_pins (hl_window_get_compare_grid (h.win)) == 2,
         "two results pinned (a duplicate pin is ignored)");
  act_s ("page", "compare");
  settle ();
  if (g_getenv ("HL_APP_TEST_SHOTS"))   /* for looking at the grid by eye */
    {
      g_autofree char *p = g_build_filename (g_getenv ("HL_APP_TEST_SHOTS"), "compare.png", NULL);

      hl_window_save_screenshot (h.win, p, NULL);
    }
  act_s ("page", "view");
}

static void
test_export_view (void)
{
  g_autofree char *png = tmp_path ("view.png");
  g_autofree char *pdf = tmp_path ("view.pdf");
  g_autofree char *svg = tmp_path ("view.svg");
  guint errors_before = h.n_errors;
  hl_image *img;

  act_s ("export-view-to", png);
  img = load_png (png);
  check (img != NULL, "the view exports as PNG");
  check (img && h.cat && img->width == h.cat->width && img->height > h.cat->height,
         "at the photo's width (%d) with title and colour bar bands (%dx%d)",
         h.cat ? h.cat->width : 0, img ? img->width : 0, img ? img->height : 0);
  check (img && image_stddev (img) > 10, "and it is not blank (pixel stddev %.1f)",
         img ? image_stddev (img) : 0);
  hl_image_free (img);
  check (file_starts_with (png, "heatlens.method", 1 << 20), "the PNG carries the CLI's metadata keys");
  act_s ("export-view-to", pdf);
  check (file_starts_with (pdf, "%PDF", 8), "the view exports as PDF");
  act_s ("export-view-to", svg);
  check (file_starts_with (svg, "<svg", 4096), "the view exports as SVG");
  check (h.n_errors == errors_before, "no view export showed an error");
}

static void
test_export_grid_npy (void)
{
  g_autofree char *grid = tmp_path ("grid.png");
  g_autofree char *npy = tmp_path ("attr.npy");
  /* viz.h's documented layout: 2 panels + the original, cell 300 */
  int cols = 3, rows = 1, cell = 300;
  int w = 2 * HL_REPORT_MARGIN + cols * cell + (cols - 1) * HL_REPORT_GAP;
  int ht = 2 * HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER +
           rows * (cell + HL_REPORT_PANEL_EXTRA) + (rows - 1) * HL_REPORT_GAP;
  guint errors_before = h.n_errors;
  HlResult *r = hl_window_get_result (h.win);
  hl_array *a = NULL;
  hl_image *img;

  /* on the locale's paper (viz.h: A4 595x842 pt or Letter 612x792, 2 px
   * per point in a PNG), landscape as this content is wider than tall */
  gboolean letter = g_strcmp0 (gtk_paper_size_get_default (), GTK_PAPER_NAME_LETTER) == 0;
  int sheet_w = 2 * (letter ? 792 : 842), sheet_h = 2 * (letter ? 612 : 595);

  act_s ("export-grid-to", grid);
  img = load_png (grid);
  check (w > ht && img && img->width == sheet_w && img->height == sheet_h,
         "the comparison (a %dx%d page) exports on %s: %dx%d (got %dx%d)", w, ht,
         letter ? "Letter" : "A4", sheet_w, sheet_h, img ? img->width : 0, img ? img->height : 0);
  check (img && image_stddev (img) > 10, "the comparison page is not blank");
  hl_image_free (img);

  act_s ("save-npy-to", npy);
  check (hl_npy_read (npy, &a, NULL) == HL_OK && r &&
         hl_shape_equal (&a->shape, &r->attr.attr->shape) &&
         memcmp (a->data, r->attr.attr->data, sizeof (float) * (size_t) hl_shape_numel (&a->shape)) == 0,
         "the raw attribution round-trips through .npy exactly");
  hl_array_free (a);
  check (h.n_errors == errors_before, "no export showed an error");
}

/* ------------------------------------------------------------ errors and choices */

static void
test_errors_banner (void)
{
  guint before = h.n_errors;
  g_autofree char *bogus = tmp_path ("no-such-photo.png");

  act_s ("load-image", bogus);
  check (wait_count (&h.n_errors, before), "an unreadable image shows an error banner");
  check (hl_window_get_error (h.win) && strstr (hl_window_get_error (h.win), "no-such-photo.png"),
         "naming the file");
  before = h.n_errors;
  act_s ("set-param", "n-steps=0");
  check (h.n_errors > before, "an out-of-range parameter shows an error banner");
  before = h.n_errors;
  act_s ("set-method", "no_such_method");
  check (h.n_errors > before, "an unknown method shows an error banner");
  check (hl_window_get_result (h.win) != NULL, "the window keeps its result");
}

static void
test_other_target (void)
{
  HlClassifier *c = hl_window_get_classifier (h.win);
  int other = 282;   /* any class that is not the top-1 */

  wait_for (worker_idle, NULL);
  if (hl_window_get_target (h.win) == other)
    other = 283;
  act ("set-target", g_variant_new_int32 (other));
  check (wait_for (result_for_target, GINT_TO_POINTER (other)),
         "a chosen target class is explained (%d %s)", other, hl_classifier_get_label (c, other));
}

static void
test_not_a_model (void)
{
  guint before = h.n_errors;
  HlClassifier *c = hl_window_get_classifier (h.win);

  act_s ("load-model", h.cat_path);
  check (wait_count (&h.n_errors, before), "a file that is not an ONNX model shows an error banner");
  check (hl_window_get_classifier (h.win) == c, "and the loaded model stays");
}

static void
test_clipboard (void)
{
  GdkClipboard *cb = gtk_widget_get_clipboard (GTK_WIDGET (h.win));
  GdkContentProvider *content;
  g_autoptr(GdkTexture) copied = NULL;
  guint before = h.n_predictions, results_before = h.n_results;
  int t;

  act ("copy", NULL);
  content = gdk_clipboard_get_content (cb);
  if (content)
    {
      GValue v = G_VALUE_INIT;

      g_value_init (&v, GDK_TYPE_TEXTURE);
      if (gdk_content_provider_get_value (content, &v, NULL))
        copied = g_value_dup_object (&v);
      g_value_unset (&v);
    }
  check (copied && h.cat && gdk_texture_get_width (copied) == h.cat->width &&
         gdk_texture_get_height (copied) == h.cat->height,
         "Copy puts the overlaid photo on the clipboard at the photo's size");
  act ("paste", NULL);
  check (wait_count (&h.n_predictions, before), "Paste opens the clipboard's picture and classifies it");
  check (wait_count (&h.n_results, results_before), "and explains it");
  check (hl_compare_grid_get_n_pins (hl_window_get_compare_grid (h.win)) == 0,
         "a new photo starts an empty comparison");
  t = hl_window_get_target (h.win);
  g_test_message ("pasted overlay picture classified as '%s'",
                  t >= 0 ? hl_classifier_get_label (hl_window_get_classifier (h.win), t) : "");
}

/* The text of the feature-mask field (an entry, or the entry in its box). */
static const char *
mask_text (void)
{
  GtkWidget *w = win_named ("feature-mask");

  if (w && !GTK_IS_EDITABLE (w))
    for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c))
      if (GTK_IS_EDITABLE (c))
        {
          w = c;
          break;
        }
  return w && GTK_IS_EDITABLE (w) ? gtk_editable_get_text (GTK_EDITABLE (w)) : NULL;
}

/* The parameter panel follows attr's descriptor table. */
static void
test_param_panel (void)
{
  int missing = 0, shown = 0;
  guint jobs_before;
  GtkWidget *more;

  wait_for (worker_idle, NULL);
  jobs_before = h.n_results;
  g_action_group_change_action_state (G_ACTION_GROUP (h.win), "auto-run", g_variant_new_boolean (FALSE));
  /* the advanced knobs live in a collapsed expander */
  if ((more = win_named ("more-options")))
    gtk_expander_set_expanded (GTK_EXPANDER (more), TRUE);
  for (int i = 0; i < hl_method_count (); i++)
    {
      const hl_method_desc *md = hl_method_get (i);

      act_s ("set-method", md->name);
      for (const char *const *p = md->params; p && *p; p++)
        {
          if (strcmp (*p, "target") == 0 || g_str_has_prefix (*p, "nt-"))
            continue;   /* target: the picker; nt-*: only with a noise tunnel */
          if (win_named (*p))
            shown++;
          else
            {
              missing++;
              g_test_message ("%s: no widget for --%s", md->name, *p);
            }
        }
    }
  check (missing == 0 && shown > hl_method_count (),
         "every parameter of all %d methods gets a widget (%d shown)", hl_method_count (), shown);
  /* a method's own default (the library's hl_method_param_default) shows
   * when the method is picked, and a mask the user typed stays */
  act_s ("set-method", "feature_ablation");
  act_s ("set-method", "shapley_values");
  {
    g_autofree char *shap = g_strdup (mask_text ());
    gboolean own = shap && strcmp (shap, "cells:3") == 0;
    act_s ("set-method", "feature_ablation");
    g_autofree char *back = g_strdup (mask_text ());
    check (own && back && strcmp (back, "grid:16") == 0,
           "the feature mask follows each method's default (shapley_values %s, feature_ablation %s)",
           shap ? shap : "(none)", back ? back : "(none)");
    act_s ("set-param", "feature-mask=slic:5");
    act_s ("set-method", "shapley_values");
    g_autofree char *kept = g_strdup (mask_text ());
    check (kept && strcmp (kept, "slic:5") == 0,
           "a mask the user chose stays when the method changes (%s)", kept ? kept : "(none)");
    act_s ("set-param", "feature-mask=grid:16");
  }
  settle ();
  check (h.n_results == jobs_before && !hl_worker_get_busy (h.worker),
         "with 'Recompute automatically' off, nothing runs");
  g_action_group_change_action_state (G_ACTION_GROUP (h.win), "auto-run", g_variant_new_boolean (TRUE));
  act_s ("set-method", "integrated_gradients");
}

static void
test_settings (void)
{
  g_autoptr(GSettings) s = g_settings_new ("org.heatlens.Heatlens");
  g_autofree char *method = g_settings_get_string (s, "method");
  g_autofree char *sign = g_settings_get_string (s, "overlay-sign");

  check (strcmp (method, "integrated_gradients") == 0, "the last method is remembered (%s)", method);
  check (strcmp (sign, "all") == 0, "the overlay sign is remembered (%s)", sign);
}

/* ------------------------------------------------------------ bad input */

/* A broken photo or model: one clear banner line, what was loaded stays. */
static void
test_bad_files (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  HlPhoto *photo = hl_image_view_get_photo (view);
  HlClassifier *c = hl_window_get_classifier (h.win);
  g_autofree char *hot_dog = hl_data_find_sample ("hot_dog");
  g_autofree char *jpeg = NULL, *png = NULL;
  gsize jpeg_len = 0, png_len = 0;
  g_autofree char *broken_png = tmp_path ("broken.png");
  g_autofree char *trunc_jpg = tmp_path ("truncated.jpg");
  g_autofree char *text_png = tmp_path ("notes.png");
  g_autofree char *hardmax = g_build_filename (g_getenv ("HL_SOURCE_ROOT"), "tests", "data", "app", "hardmax.onnx", NULL);
  g_autofree char *not_cls = g_build_filename (g_getenv ("HL_SOURCE_ROOT"), "tests", "data", "app", "not-classifier.onnx", NULL);
  struct { const char *path, *name, *what; } bad[] = {
    { broken_png, "broken.png", "truncated PNG" },
    { trunc_jpg, "truncated.jpg", "truncated JPEG" },
    { text_png, "notes.png", "not a PNG, JPEG" },
    { hardmax, "hardmax.onnx", "Hardmax" },
    { not_cls, "not-classifier.onnx", "[1,3,8,8]" },
  };

  /* a PNG cut after its header chunk and filled with noise; half a JPEG;
   * a text file with a picture's name */
  g_file_get_contents (h.cat_path, &png, &png_len, NULL);
  g_file_get_contents (hot_dog, &jpeg, &jpeg_len, NULL);
  if (png && png_len > 4096)
    {
      GRand *rng = g_rand_new_with_seed (7);

      for (gsize i = 100; i < 4096; i++)
        png[i] = (char) g_rand_int_range (rng, 0, 256);
      g_rand_free (rng);
      g_file_set_contents (broken_png, png, 4096, NULL);
    }
  if (jpeg)
    g_file_set_contents (trunc_jpg, jpeg, (gssize) (jpeg_len / 2), NULL);
  g_file_set_contents (text_png, "shopping list: milk, eggs\n", -1, NULL);

  wait_for (worker_idle, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      guint before = h.n_errors;
      const char *msg;

      act_s (g_str_has_suffix (bad[i].path, ".onnx") ? "load-model" : "load-image", bad[i].path);
      wait_count (&h.n_errors, before);
      msg = hl_window_get_error (h.win);
      check (msg && strstr (msg, bad[i].name) && strstr (msg, bad[i].what) && !strchr (msg, '\n'),
             "%s: one banner line naming the file and '%s': %s", bad[i].name, bad[i].what,
             msg ? msg : "(none)");
      check (hl_image_view_get_photo (view) == photo && hl_window_get_classifier (h.win) == c,
             "%s: the photo and the model shown before stay loaded", bad[i].name);
    }
  check (hl_window_get_result (h.win) != NULL, "and so does the result on screen");
}

/* Wrong values typed in a parameter field. */
static void
test_bad_values (void)
{
  HlResult *shown;
  GtkWidget *entry;
  const char *msg;
  guint before;

  act_s ("set-method", "occlusion");
  wait_for (worker_idle, NULL);
  settle ();
  wait_for (worker_idle, NULL);
  shown = hl_window_get_result (h.win);

  entry = win_named ("strides");
  before = h.n_errors;
  if (entry)
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), "3,0,8");
      g_signal_emit_by_name (entry, "activate");
    }
  msg = hl_window_get_error (h.win);
  check (entry && h.n_errors > before && msg && strstr (msg, "strides") && !strchr (msg, '\n'),
         "strides 3,0,8 typed in the field: the banner names the parameter: %s", msg ? msg : "");

  /* a window larger than the 224x224 input: refused when it runs */
  entry = win_named ("window");
  before = h.n_errors;
  if (entry)
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), "3,300,300");
      g_signal_emit_by_name (entry, "activate");
    }
  wait_count (&h.n_errors, before);
  msg = hl_window_get_error (h.win);
  check (entry && msg && strstr (msg, "window") && strstr (msg, "224") && !strchr (msg, '\n'),
         "a window of 300x300 on a 224x224 input: the banner says why: %s", msg ? msg : "");
  wait_for (worker_idle, NULL);
  check (hl_window_get_result (h.win) == shown, "the result shown before stays");

  act_s ("set-method", "integrated_gradients");
  before = h.n_errors;
  act_s ("set-param", "n-steps=0");
  msg = hl_window_get_error (h.win);
  check (h.n_errors > before && msg && strstr (msg, "n-steps") && !strchr (msg, '\n'),
         "IG steps 0: the banner names the parameter: %s", msg ? msg : "");
  entry = win_named ("n-steps");
  if (entry)
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), "0");
      gtk_spin_button_update (GTK_SPIN_BUTTON (entry));
    }
  check (entry && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (entry)) == 1,
         "0 typed in the IG steps field is clamped to its minimum, 1");
  act_s ("set-param", "n-steps=8");
}

/* .npy parameters: a file button, errors name the file. */
static void
test_npy_params (void)
{
  g_autofree char *text_npy = tmp_path ("notes.npy");
  g_autofree char *small_npy = tmp_path ("small-baseline.npy");
  g_autofree char *float_mask = tmp_path ("float-mask.npy");
  hl_shape s4 = { 4, { 1, 3, 10, 10 } }, s2 = { 2, { 224, 224 } };
  hl_array *a = hl_array_new (&s4), *m = hl_array_new (&s2);
  struct { const char *method, *param, *path, *what; } cases[] = {
    { "integrated_gradients", "baseline", text_npy, "not a .npy" },
    { "integrated_gradients", "baseline", small_npy, "[1,3,10,10]" },
    { "feature_ablation", "feature-mask", float_mask, "integer" },
  };

  g_file_set_contents (text_npy, "1 2 3\n", -1, NULL);
  hl_npy_write (small_npy, a, NULL);
  hl_npy_write (float_mask, m, NULL);
  hl_array_free (a);
  hl_array_free (m);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *button = g_strdup_printf ("%s-file", cases[i].param);
      g_autofree char *kv = g_strdup_printf ("%s=%s", cases[i].param, cases[i].path);
      g_autofree char *base = g_path_get_basename (cases[i].path);
      guint before;
      const char *msg;

      act_s ("set-method", cases[i].method);
      check (win_named (button) != NULL,
             "%s: the %s field has a file chooser button", cases[i].method, cases[i].param);
      wait_for (worker_idle, NULL);
      before = h.n_errors;
      act_s ("set-param", kv);
      wait_count (&h.n_errors, before);
      msg = hl_window_get_error (h.win);
      check (msg && strstr (msg, base) && strstr (msg, cases[i].what) && !strchr (msg, '\n'),
             "%s %s: the banner names the file and '%s': %s", cases[i].param, base,
             cases[i].what, msg ? msg : "");
      act_s ("set-param", g_str_equal (cases[i].param, "baseline") ? "baseline=zero" : "feature-mask=grid:16");
    }
  wait_for (worker_idle, NULL);
}

void
window_add_export_error_tests (void)
{
  g_test_add_func ("/window/pin-compare", test_pin_compare);
  g_test_add_func ("/window/export-view", test_export_view);
  g_test_add_func ("/window/export-grid-npy", test_export_grid_npy);
  g_test_add_func ("/window/errors-banner", test_errors_banner);
  g_test_add_func ("/window/other-target", test_other_target);
  g_test_add_func ("/window/not-a-model", test_not_a_model);
  g_test_add_func ("/window/clipboard", test_clipboard);
  g_test_add_func ("/window/param-panel", test_param_panel);
  g_test_add_func ("/window/settings", test_settings);
  g_test_add_func ("/window/bad-files", test_bad_files);
  g_test_add_func ("/window/bad-values", test_bad_values);
  g_test_add_func ("/window/npy-params", test_npy_params);
}
