/* The real window driven through its actions under Xvfb: load a sample,
 * pick methods, change IG steps, run, hit the cache, cancel a long run,
 * replace a running request, pin, export (PNG/PDF/SVG, grid, .npy), error
 * banners, settings, bad input (broken photos and models, wrong parameter
 * values and .npy files), picking a neuron by clicking, the presenting
 * shortcuts, screenshot, and the `heatlens --screenshot` command.
 *
 * Expected values come from outside the window: the photo's content (a
 * cat), viz's documented page-size formula, the photo's own size, the
 * result arrays themselves (.npy round trip) and file signatures.
 * Waits have a generous guard so a hang fails instead of blocking; no check
 * depends on how fast anything runs. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "tap.h"
#include "heatlens-application.h"
#include "heatlens-data.h"
#include "heatlens-window.h"
#include "image.h"
#include "npy.h"
#include "viz.h"

#define GUARD_S 600.0

static HlWindow *win;
static HlWorker *worker;
static guint ticks, busy_ticks;
static guint n_results, n_predictions, n_errors, n_cancelled;
static HlResult *last_result;

static gboolean
tick_cb (gpointer data)
{
  ticks++;
  if (worker && hl_worker_get_busy (worker))
    busy_ticks++;
  return G_SOURCE_CONTINUE;
}

static void
result_cb (HlWindow *w, HlResult *r, gpointer data)
{
  n_results++;
  last_result = r;
}

static void
prediction_cb (HlWindow *w, gpointer data)
{
  n_predictions++;
}

static void
error_cb (HlWindow *w, const char *msg, gpointer data)
{
  n_errors++;
  tap_diag ("banner: %s", msg);
}

static void
cancelled_cb (HlWorker *w, gpointer data)
{
  n_cancelled++;
}

typedef gboolean (*Cond) (gpointer);

static gboolean
wait_for (Cond cond, gpointer data)
{
  gint64 end = g_get_monotonic_time () + (gint64) (GUARD_S * 1e6);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static gboolean count_above (gpointer p) { return *((guint **) p)[0] > GPOINTER_TO_UINT (((guint **) p)[1]); }

/* Wait until *counter grows past `from`. */
static gboolean
wait_count (guint *counter, guint from)
{
  gpointer args[2] = { counter, GUINT_TO_POINTER (from) };

  return wait_for (count_above, args);
}

static gboolean result_for_target (gpointer p) { return last_result && last_result->attr.target == GPOINTER_TO_INT (p); }
static gboolean worker_idle (gpointer p) { return !hl_worker_get_busy (worker) && hl_worker_get_n_running (worker) == 0; }
static gboolean worker_busy (gpointer p) { return hl_worker_get_busy (worker); }
static gboolean worker_progressed (gpointer p) { return hl_worker_get_fraction (worker) > 0; }

/* Spin the loop briefly (debounce timers, idles) without a time check. */
static void
settle (void)
{
  guint until = ticks + 60;

  while (ticks < until)
    g_main_context_iteration (NULL, TRUE);
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

static void
act (const char *name, GVariant *param)
{
  g_action_group_activate_action (G_ACTION_GROUP (win), name, param);
}

static void
act_s (const char *name, const char *value)
{
  act (name, g_variant_new_string (value));
}

/* Pixel standard deviation over all channels: 0 for a blank picture. */
static double
image_stddev (const hl_image *img)
{
  double sum = 0, sum2 = 0;
  gsize n = (gsize) img->width * img->height * 3;

  for (gsize i = 0; i < n; i++)
    {
      sum += img->rgb[i];
      sum2 += (double) img->rgb[i] * img->rgb[i];
    }
  return sqrt (MAX (0, sum2 / n - (sum / n) * (sum / n)));
}

static gboolean
file_starts_with (const char *path, const char *magic, gsize search_len)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  gsize n = MIN (len, search_len), m = strlen (magic);

  /* binary files (PNG) hold NULs: compare bytes, not C strings */
  for (gsize i = 0; i + m <= n; i++)
    if (memcmp (data + i, magic, m) == 0)
      return TRUE;
  return FALSE;
}

static hl_image *
load_png (const char *path)
{
  hl_image *img = NULL;

  hl_image_load (path, &img, NULL);
  return img;
}

int
main (int argc, char **argv)
{
  hl_engine_init ();
  g_autoptr(HlApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = g_dir_make_tmp ("heatlens-app-XXXXXX", NULL);
  g_autofree char *cat_path = hl_data_find_sample ("cat");
  g_autofree char *model_path = hl_data_default_model ();
  HlResult *saliency = NULL, *ig8 = NULL;
  hl_image *cat = NULL;

  gtk_init ();
  app = hl_application_new ();
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    {
      tap_ok (0, "application registers: %s", error->message);
      return tap_done ();
    }
  if (cat_path == NULL || model_path == NULL)
    {
      tap_skip ("bundled model or cat sample missing");
      return tap_done ();
    }
  hl_image_load (cat_path, &cat, NULL);
  g_timeout_add (5, tick_cb, NULL);

  win = hl_window_new (GTK_APPLICATION (app));
  worker = hl_window_get_worker (win);
  g_signal_connect (win, "result-shown", G_CALLBACK (result_cb), NULL);
  g_signal_connect (win, "prediction-shown", G_CALLBACK (prediction_cb), NULL);
  g_signal_connect (win, "error-shown", G_CALLBACK (error_cb), NULL);
  g_signal_connect (worker, "cancelled", G_CALLBACK (cancelled_cb), NULL);
  gtk_window_set_default_size (GTK_WINDOW (win), 1200, 800);
  gtk_window_present (GTK_WINDOW (win));

  {
    static const char *const needed[] = {
      "open", "open-model", "paste", "copy", "run", "cancel", "pin", "export-view",
      "export-grid", "save-npy", "load-sample", "set-method", "set-param",
      "set-overlay", "set-target", "export-view-to", "export-grid-to", "save-npy-to",
      "zoom-in", "zoom-out", "zoom-fit", "page", "auto-run", NULL };
    gboolean all = TRUE;

    for (const char *const *a = needed; *a; a++)
      if (!g_action_group_has_action (G_ACTION_GROUP (win), *a))
        {
          tap_diag ("missing action win.%s", *a);
          all = FALSE;
        }
    tap_ok (all, "the window has every action of the menus and shortcuts");
  }

  /* --- load: model + sample, prediction --------------------------------- */
  act_s ("set-method", "saliency");
  act_s ("load-model", model_path);
  act_s ("load-sample", "cat");
  tap_ok (wait_count (&n_predictions, 0), "predictions appear for the cat sample");
  {
    HlClassifier *c = hl_window_get_classifier (win);
    int t = hl_window_get_target (win);
    const char *label = c && t >= 0 ? hl_classifier_get_label (c, t) : "";

    tap_ok (c && strcmp (hl_classifier_get_name (c), "mobilenet_v2.onnx") == 0,
            "the bundled model is loaded (%s)", c ? hl_classifier_get_name (c) : "none");
    tap_ok (strstr (label, "cat") != NULL, "the default target is the top-1 class, a cat: '%s'", label);
  }

  /* --- the first run happens by itself (auto-run) ----------------------- */
  busy_ticks = 0;
  tap_ok (wait_count (&n_results, 0), "the top-1 class is explained without asking");
  saliency = last_result ? hl_result_ref (last_result) : NULL;
  tap_ok (saliency && strcmp (saliency->method, "saliency") == 0, "with the chosen method (saliency)");
  tap_ok (saliency && saliency->attr.attr &&
          saliency->attr.attr->shape.ndim == 4 && saliency->attr.attr->shape.dims[1] == 3 &&
          saliency->attr.attr->shape.dims[2] == 224 && saliency->attr.attr->shape.dims[3] == 224,
          "the saliency map has the model input's shape [1,3,224,224]");
  tap_ok (hl_image_view_get_norm (hl_window_get_image_view (win)) != NULL,
          "the view shows the overlay");

  /* --- IG with 8 steps: the main loop keeps turning while it computes --- */
  act_s ("set-method", "integrated_gradients");
  act_s ("set-param", "n-steps=8");
  busy_ticks = 0;
  {
    guint before = n_results;

    tap_ok (wait_count (&n_results, before), "changing the method and IG steps recomputes");
  }
  ig8 = last_result ? hl_result_ref (last_result) : NULL;
  tap_ok (ig8 && strcmp (ig8->method, "integrated_gradients") == 0 && ig8->params.n_steps == 8,
          "the result is integrated_gradients with n_steps = 8");
  tap_ok (ig8 && ig8->attr.has_delta, "IG reports a convergence delta");
  tap_ok (busy_ticks >= 2, "the main loop kept iterating while the worker ran (%u ticks while busy)",
          busy_ticks);

  /* --- cache: back to a previous request is served without a run ------- */
  act_s ("set-param", "n-steps=16");
  {
    guint before = n_results;

    wait_count (&n_results, before);
  }
  tap_ok (last_result && last_result->params.n_steps == 16, "n-steps 16 computed");
  {
    guint before = n_results;

    act_s ("set-param", "n-steps=8");
    tap_ok (wait_count (&n_results, before), "n-steps back to 8 shows a result");
    tap_ok (last_result == ig8, "the very same result comes from the cache");
    tap_ok (!hl_worker_get_busy (worker), "no computation was started for it");
  }

  /* --- cancel a long run (IG 1000 steps) --------------------------------- */
  {
    guint results_before, cancelled_before = n_cancelled;

    act_s ("set-param", "n-steps=1000");
    tap_ok (wait_for (worker_busy, NULL), "IG with 1000 steps starts");
    wait_for (worker_progressed, NULL);
    tap_ok (hl_worker_get_fraction (worker) > 0 && hl_worker_get_fraction (worker) < 1,
            "its progress arrives in the main loop (%.3f)", hl_worker_get_fraction (worker));
    act ("run", NULL);
    tap_ok (hl_worker_get_fraction (worker) > 0 && n_cancelled == cancelled_before,
            "asking again for the request being computed does not restart it");
    results_before = n_results;
    busy_ticks = 0;
    act ("cancel", NULL);
    tap_ok (!hl_worker_get_busy (worker), "Cancel makes the window idle at once");
    tap_ok (wait_count (&n_cancelled, cancelled_before), "the worker thread stops with 'cancelled'");
    tap_ok (wait_for (worker_idle, NULL), "no thread is left running");
    settle ();
    tap_ok (n_results == results_before, "nothing from the cancelled run is shown");
    tap_ok (hl_window_get_result (win) == ig8, "the previous result stays on screen");
  }

  /* --- a parameter change during a run replaces it ---------------------- */
  {
    guint cancelled_before = n_cancelled, results_before;

    act_s ("set-param", "n-steps=1000");
    wait_for (worker_busy, NULL);
    wait_for (worker_progressed, NULL);
    results_before = n_results;
    act_s ("set-param", "n-steps=12");
    tap_ok (wait_count (&n_results, results_before), "changing n-steps during a run shows the new request");
    tap_ok (last_result && last_result->params.n_steps == 12, "the result is for n_steps = 12");
    tap_ok (wait_count (&n_cancelled, cancelled_before), "the 1000-step run was cancelled");
  }

  /* --- overlay: instant, no recomputation -------------------------------- */
  {
    HlResult *shown = hl_window_get_result (win);
    const hl_viz_norm *norm;

    act_s ("set-overlay", "sign=all");
    act_s ("set-overlay", "mode=heat_map");
    norm = hl_image_view_get_norm (hl_window_get_image_view (win));
    tap_ok (norm && hl_viz_norm_sign (norm) == HL_SIGN_ALL, "sign 'all' re-normalises the shown map");
    tap_ok (!hl_worker_get_busy (worker) && hl_window_get_result (win) == shown,
            "overlay changes do not recompute");
    act_s ("set-overlay", "mode=blended_heat_map");
  }

  /* --- zoom and hover ------------------------------------------------------ */
  {
    HlImageView *view = hl_window_get_image_view (win);
    g_autofree char *centre = hl_image_view_describe_pixel (view, cat->width / 2.0, cat->height / 2.0);
    g_autofree char *corner = hl_image_view_describe_pixel (view, 0.5, 0.5);
    const hl_crop_map *m = hl_image_view_get_crop_map (view);

    act ("zoom-in", NULL);
    act ("zoom-in", NULL);
    tap_ok (fabs (hl_image_view_get_zoom (view) - 1.5625) < 1e-9, "two zoom-ins give 1.25^2 (%.4f)",
            hl_image_view_get_zoom (view));
    act ("zoom-fit", NULL);
    tap_ok (hl_image_view_get_zoom (view) == 1.0, "zoom-fit goes back to 1");
    tap_ok (centre && strstr (centre, "attribution") != NULL,
            "hovering the photo's centre shows its attribution: %s", centre ? centre : "");
    if (m && (m->x0 > 1 || m->y0 > 1))
      tap_ok (corner && strstr (corner, "outside") != NULL,
              "hovering a corner outside the model's crop says so: %s", corner ? corner : "");
    else
      tap_skip ("the crop covers the whole photo");
  }

  /* --- layer method: the layer picker's default and an input-size map --- */
  act_s ("set-method", "layer_grad_cam");
  {
    guint before = n_results;

    tap_ok (wait_count (&n_results, before), "layer_grad_cam runs with the default layer");
    tap_ok (last_result && last_result->params.layer[0] != '\0',
            "a layer was chosen: '%s'", last_result ? last_result->params.layer : "");
    tap_ok (last_result && last_result->attr.attr->shape.dims[2] == 224 &&
            last_result->attr.attr->shape.dims[3] == 224,
            "the layer map is upsampled to the input for display");
  }

  /* --- pin and compare --------------------------------------------------- */
  act ("pin", NULL);
  act_s ("set-method", "integrated_gradients");
  {
    guint before = n_results;

    act_s ("set-param", "n-steps=8");
    wait_count (&n_results, before);
  }
  act ("pin", NULL);
  act ("pin", NULL);   /* same result twice: pinned once */
  tap_ok (hl_compare_grid_get_n_pins (hl_window_get_compare_grid (win)) == 2,
          "two results pinned (a duplicate pin is ignored)");
  act_s ("page", "compare");
  settle ();
  if (g_getenv ("HL_APP_TEST_SHOTS"))   /* for looking at the grid by eye */
    {
      g_autofree char *p = g_build_filename (g_getenv ("HL_APP_TEST_SHOTS"), "compare.png", NULL);

      hl_window_save_screenshot (win, p, NULL);
    }
  act_s ("page", "view");

  /* --- exports ------------------------------------------------------------ */
  {
    g_autofree char *png = g_build_filename (tmpdir, "view.png", NULL);
    g_autofree char *pdf = g_build_filename (tmpdir, "view.pdf", NULL);
    g_autofree char *svg = g_build_filename (tmpdir, "view.svg", NULL);
    g_autofree char *grid = g_build_filename (tmpdir, "grid.png", NULL);
    g_autofree char *npy = g_build_filename (tmpdir, "attr.npy", NULL);
    hl_image *img;
    guint errors_before = n_errors;

    act_s ("export-view-to", png);
    img = load_png (png);
    tap_ok (img != NULL, "the view exports as PNG");
    tap_ok (img && cat && img->width == cat->width && img->height > cat->height,
            "at the photo's width (%d) with title and colour bar bands (%dx%d)",
            cat ? cat->width : 0, img ? img->width : 0, img ? img->height : 0);
    tap_ok (img && image_stddev (img) > 10, "and it is not blank (pixel stddev %.1f)",
            img ? image_stddev (img) : 0);
    hl_image_free (img);
    tap_ok (file_starts_with (png, "heatlens.method", 1 << 20), "the PNG carries the CLI's metadata keys");

    act_s ("export-view-to", pdf);
    tap_ok (file_starts_with (pdf, "%PDF", 8), "the view exports as PDF");
    act_s ("export-view-to", svg);
    tap_ok (file_starts_with (svg, "<svg", 4096), "the view exports as SVG");

    act_s ("export-grid-to", grid);
    img = load_png (grid);
    {
      /* viz.h's documented layout: 2 panels + the original, cell 300 */
      int cols = 3, rows = 1, cell = 300;
      int w = 2 * HL_REPORT_MARGIN + cols * cell + (cols - 1) * HL_REPORT_GAP;
      int h = 2 * HL_REPORT_MARGIN + HL_REPORT_HEADER + HL_REPORT_FOOTER +
              rows * (cell + HL_REPORT_PANEL_EXTRA) + (rows - 1) * HL_REPORT_GAP;

      tap_ok (img && img->width == w && img->height == h,
              "the comparison exports as a %dx%d page (got %dx%d)", w, h,
              img ? img->width : 0, img ? img->height : 0);
      tap_ok (img && image_stddev (img) > 10, "the comparison page is not blank");
    }
    hl_image_free (img);

    act_s ("save-npy-to", npy);
    {
      hl_array *a = NULL;
      HlResult *r = hl_window_get_result (win);

      tap_ok (hl_npy_read (npy, &a, NULL) == HL_OK && r &&
              hl_shape_equal (&a->shape, &r->attr.attr->shape) &&
              memcmp (a->data, r->attr.attr->data,
                      sizeof (float) * (size_t) hl_shape_numel (&a->shape)) == 0,
              "the raw attribution round-trips through .npy exactly");
      hl_array_free (a);
    }
    tap_ok (n_errors == errors_before, "no export showed an error");
  }

  /* --- errors in the window, not crashes -------------------------------- */
  {
    guint before = n_errors;
    g_autofree char *bogus = g_build_filename (tmpdir, "no-such-photo.png", NULL);

    act_s ("load-image", bogus);
    tap_ok (wait_count (&n_errors, before), "an unreadable image shows an error banner");
    tap_ok (hl_window_get_error (win) && strstr (hl_window_get_error (win), "no-such-photo.png"),
            "naming the file");
    before = n_errors;
    act_s ("set-param", "n-steps=0");
    tap_ok (n_errors > before, "an out-of-range parameter shows an error banner");
    before = n_errors;
    act_s ("set-method", "no_such_method");
    tap_ok (n_errors > before, "an unknown method shows an error banner");
    tap_ok (hl_window_get_result (win) != NULL, "the window keeps its result");
  }

  /* --- another target ---------------------------------------------------- */
  {
    HlClassifier *c = hl_window_get_classifier (win);
    int other = 282;   /* any class that is not the top-1 */

    wait_for (worker_idle, NULL);
    if (hl_window_get_target (win) == other)
      other = 283;
    act ("set-target", g_variant_new_int32 (other));
    tap_ok (wait_for (result_for_target, GINT_TO_POINTER (other)),
            "a chosen target class is explained (%d %s)", other, hl_classifier_get_label (c, other));
  }

  /* --- a file that is not a model: banner, the model stays ------------- */
  {
    guint before = n_errors;
    HlClassifier *c = hl_window_get_classifier (win);

    act_s ("load-model", cat_path);
    tap_ok (wait_count (&n_errors, before), "a file that is not an ONNX model shows an error banner");
    tap_ok (hl_window_get_classifier (win) == c, "and the loaded model stays");
  }

  /* --- copy to and paste from the clipboard ----------------------------- */
  {
    GdkClipboard *cb = gtk_widget_get_clipboard (GTK_WIDGET (win));
    GdkContentProvider *content;
    g_autoptr(GdkTexture) copied = NULL;
    guint before;

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
    tap_ok (copied && cat && gdk_texture_get_width (copied) == cat->width &&
            gdk_texture_get_height (copied) == cat->height,
            "Copy puts the overlaid photo on the clipboard at the photo's size");

    before = n_predictions;
    {
      guint results_before = n_results;

      act ("paste", NULL);
      tap_ok (wait_count (&n_predictions, before), "Paste opens the clipboard's picture and classifies it");
      tap_ok (wait_count (&n_results, results_before), "and explains it");
    }
    {
      int t = hl_window_get_target (win);
      const char *label = t >= 0 ? hl_classifier_get_label (hl_window_get_classifier (win), t) : "";

      tap_ok (hl_compare_grid_get_n_pins (hl_window_get_compare_grid (win)) == 0,
              "a new photo starts an empty comparison");
      tap_diag ("pasted overlay picture classified as '%s'", label);
    }
  }

  /* --- the parameter panel follows attr's descriptor table -------------- */
  {
    int missing = 0, shown = 0;
    guint jobs_before;

    wait_for (worker_idle, NULL);
    jobs_before = n_results;

    g_action_group_change_action_state (G_ACTION_GROUP (win), "auto-run", g_variant_new_boolean (FALSE));
    /* the advanced knobs live in a collapsed expander */
    if (find_named (GTK_WIDGET (win), "more-options"))
      gtk_expander_set_expanded (GTK_EXPANDER (find_named (GTK_WIDGET (win), "more-options")), TRUE);
    for (int i = 0; i < hl_method_count (); i++)
      {
        const hl_method_desc *md = hl_method_get (i);

        act_s ("set-method", md->name);
        for (const char *const *p = md->params; p && *p; p++)
          {
            if (strcmp (*p, "target") == 0 || g_str_has_prefix (*p, "nt-"))
              continue;   /* target: the picker; nt-*: only with a noise tunnel */
            if (find_named (GTK_WIDGET (win), *p))
              shown++;
            else
              {
                missing++;
                tap_diag ("%s: no widget for --%s", md->name, *p);
              }
          }
      }
    tap_ok (missing == 0 && shown > hl_method_count (),
            "every parameter of all %d methods gets a widget (%d shown)", hl_method_count (), shown);
    settle ();
    tap_ok (n_results == jobs_before && !hl_worker_get_busy (worker),
            "with 'Recompute automatically' off, nothing runs");
    g_action_group_change_action_state (G_ACTION_GROUP (win), "auto-run", g_variant_new_boolean (TRUE));
    act_s ("set-method", "integrated_gradients");
  }

  /* --- settings remembered ------------------------------------------------ */
  {
    g_autoptr(GSettings) s = g_settings_new ("org.heatlens.Heatlens");
    g_autofree char *method = g_settings_get_string (s, "method");
    g_autofree char *sign = g_settings_get_string (s, "overlay-sign");

    tap_ok (strcmp (method, "integrated_gradients") == 0, "the last method is remembered (%s)", method);
    tap_ok (strcmp (sign, "all") == 0, "the overlay sign is remembered (%s)", sign);
  }

  /* --- bad input: one clear line in the banner, what was loaded stays --- */
  {
    HlImageView *view = hl_window_get_image_view (win);
    HlPhoto *photo = hl_image_view_get_photo (view);
    HlClassifier *c = hl_window_get_classifier (win);
    g_autofree char *hot_dog = hl_data_find_sample ("hot_dog");
    g_autofree char *jpeg = NULL, *png = NULL;
    gsize jpeg_len = 0, png_len = 0;
    g_autofree char *broken_png = g_build_filename (tmpdir, "broken.png", NULL);
    g_autofree char *trunc_jpg = g_build_filename (tmpdir, "truncated.jpg", NULL);
    g_autofree char *text_png = g_build_filename (tmpdir, "notes.png", NULL);
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
    g_file_get_contents (cat_path, &png, &png_len, NULL);
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
        guint before = n_errors;
        const char *msg;

        if (g_str_has_suffix (bad[i].path, ".onnx"))
          act_s ("load-model", bad[i].path);
        else
          act_s ("load-image", bad[i].path);
        wait_count (&n_errors, before);
        msg = hl_window_get_error (win);
        tap_ok (msg && strstr (msg, bad[i].name) && strstr (msg, bad[i].what) && !strchr (msg, '\n'),
                "%s: one banner line naming the file and '%s': %s", bad[i].name, bad[i].what,
                msg ? msg : "(none)");
        tap_ok (hl_image_view_get_photo (view) == photo && hl_window_get_classifier (win) == c,
                "%s: the photo and the model shown before stay loaded", bad[i].name);
      }
    tap_ok (hl_window_get_result (win) != NULL, "and so does the result on screen");
  }

  /* --- wrong values typed in a parameter field -------------------------- */
  {
    HlResult *shown;
    GtkWidget *entry;
    const char *msg;
    guint before;

    act_s ("set-method", "occlusion");
    wait_for (worker_idle, NULL);
    settle ();
    wait_for (worker_idle, NULL);
    shown = hl_window_get_result (win);

    entry = find_named (GTK_WIDGET (win), "strides");
    before = n_errors;
    if (entry)
      {
        gtk_editable_set_text (GTK_EDITABLE (entry), "3,0,8");
        g_signal_emit_by_name (entry, "activate");
      }
    msg = hl_window_get_error (win);
    tap_ok (entry && n_errors > before && msg && strstr (msg, "strides") && !strchr (msg, '\n'),
            "strides 3,0,8 typed in the field: the banner names the parameter: %s", msg ? msg : "");

    /* a window larger than the 224x224 input: refused when it runs */
    entry = find_named (GTK_WIDGET (win), "window");
    before = n_errors;
    if (entry)
      {
        gtk_editable_set_text (GTK_EDITABLE (entry), "3,300,300");
        g_signal_emit_by_name (entry, "activate");
      }
    wait_count (&n_errors, before);
    msg = hl_window_get_error (win);
    tap_ok (entry && msg && strstr (msg, "window") && strstr (msg, "224") && !strchr (msg, '\n'),
            "a window of 300x300 on a 224x224 input: the banner says why: %s", msg ? msg : "");
    wait_for (worker_idle, NULL);
    tap_ok (hl_window_get_result (win) == shown, "the result shown before stays");

    act_s ("set-method", "integrated_gradients");
    before = n_errors;
    act_s ("set-param", "n-steps=0");
    msg = hl_window_get_error (win);
    tap_ok (n_errors > before && msg && strstr (msg, "n-steps") && !strchr (msg, '\n'),
            "IG steps 0: the banner names the parameter: %s", msg ? msg : "");
    entry = find_named (GTK_WIDGET (win), "n-steps");
    if (entry)
      {
        gtk_editable_set_text (GTK_EDITABLE (entry), "0");
        gtk_spin_button_update (GTK_SPIN_BUTTON (entry));
      }
    tap_ok (entry && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (entry)) == 1,
            "0 typed in the IG steps field is clamped to its minimum, 1");
    act_s ("set-param", "n-steps=8");
  }

  /* --- .npy parameters: a file button, errors name the file ------------- */
  {
    g_autofree char *text_npy = g_build_filename (tmpdir, "notes.npy", NULL);
    g_autofree char *small_npy = g_build_filename (tmpdir, "small-baseline.npy", NULL);
    g_autofree char *float_mask = g_build_filename (tmpdir, "float-mask.npy", NULL);
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
        tap_ok (find_named (GTK_WIDGET (win), button) != NULL,
                "%s: the %s field has a file chooser button", cases[i].method, cases[i].param);
        wait_for (worker_idle, NULL);
        before = n_errors;
        act_s ("set-param", kv);
        wait_count (&n_errors, before);
        msg = hl_window_get_error (win);
        tap_ok (msg && strstr (msg, base) && strstr (msg, cases[i].what) && !strchr (msg, '\n'),
                "%s %s: the banner names the file and '%s': %s", cases[i].param, base,
                cases[i].what, msg ? msg : "");
        act_s ("set-param", g_str_equal (cases[i].param, "baseline") ? "baseline=zero" : "feature-mask=grid:16");
      }
    wait_for (worker_idle, NULL);
  }

  /* --- neuron methods: the neuron is picked by clicking the photo ------- */
  {
    HlImageView *view = hl_window_get_image_view (win);
    HlClassifier *c = hl_window_get_classifier (win);
    const hl_model *model = hl_classifier_get_model (c);
    const hl_crop_map *map;
    hl_array *input = NULL;
    hl_crop_map cmap;
    hl_run *run = NULL;
    const float *act = NULL;
    hl_shape shape = { 0 };
    graphene_rect_t marker;
    GtkWidget *entry, *spin, *strongest;
    int value, pick_h = 1, pick_w = 5;
    double px, py;
    guint before;

    act_s ("load-sample", "cat");
    wait_count (&n_predictions, n_predictions);
    wait_for (worker_idle, NULL);
    tap_ok (!hl_image_view_get_picking (view) && !hl_image_view_get_marker (view, NULL),
            "a method without a neuron: clicks do not pick, no marker");
    before = n_results;
    act_s ("set-method", "neuron_gradient");
    tap_ok (wait_count (&n_results, before) && last_result &&
            strcmp (last_result->method, "neuron_gradient") == 0,
            "neuron_gradient runs with the default layer and neuron");
    map = hl_image_view_get_crop_map (view);
    value = last_result ? hl_model_find_value (model, last_result->params.layer) : -1;

    /* the layer's activations, computed here from the photo (not by the
     * window), to know the strongest channel at a cell; ties at the
     * layer's maximum (ReLU6 at its ceiling) are passed over */
    if (value >= 0 && hl_preprocess_apply (hl_classifier_get_preprocess (c), cat, &input, &cmap, NULL, NULL) == HL_OK &&
        (run = hl_run_new (model, 0)) && hl_run_forward (run, input->data, 1, NULL) == HL_OK)
      act = hl_run_value (run, value, &shape);
    tap_ok (act && shape.ndim == 4 && map, "the layer %s has a [1,C,H,W] output",
            last_result ? last_result->params.layer : "?");
    if (act && shape.ndim == 4 && map)
      {
        int64_t plane = shape.dims[2] * shape.dims[3], n = shape.dims[1] * plane, n_top = 0;
        float top = act[0];
        int expect_c = -1;
        const hl_attr_params *p;

        for (int64_t i = 0; i < n; i++)
          top = MAX (top, act[i]);
        for (int64_t i = 0; i < n; i++)
          n_top += act[i] == top;

        /* the default neuron: the layer's centre, its strongest channel */
        p = &last_result->params;
        for (int64_t ch = 0, at = (int64_t) p->neuron[1] * shape.dims[3] + p->neuron[2]; ch < shape.dims[1]; ch++)
          if (!(n_top > 1 && act[ch * plane + at] == top) &&
              (expect_c < 0 || act[ch * plane + at] > act[expect_c * plane + at]))
            expect_c = (int) ch;
        tap_diag ("the default neuron is %d,%d,%d", p->neuron[0], p->neuron[1], p->neuron[2]);
        tap_ok (p->neuron[0] == expect_c,
                "the default neuron starts at the strongest channel there (%d, expected %d)",
                p->neuron[0], expect_c);
        tap_ok (hl_image_view_get_norm (view) && !hl_viz_norm_is_zero (hl_image_view_get_norm (view)),
                "so its attribution is not zero everywhere");
        tap_ok (hl_image_view_get_picking (view), "clicks on the photo pick a neuron");

        /* a click in the middle of cell (pick_h, pick_w) of the layer grid */
        px = map->x0 + (pick_w + 0.5) * map->input_width / shape.dims[3] * map->sx;
        py = map->y0 + (pick_h + 0.5) * map->input_height / shape.dims[2] * map->sy;
        expect_c = -1;
        for (int64_t ch = 0, at = (int64_t) pick_h * shape.dims[3] + pick_w; ch < shape.dims[1]; ch++)
          if (!(n_top > 1 && act[ch * plane + at] == top) &&
              (expect_c < 0 || act[ch * plane + at] > act[expect_c * plane + at]))
            expect_c = (int) ch;
        before = n_results;
        g_signal_emit_by_name (view, "picked", px, py);
        wait_count (&n_results, before);
        tap_ok (n_results > before && last_result &&
                last_result->params.neuron[0] == expect_c && last_result->params.neuron[1] == pick_h &&
                last_result->params.neuron[2] == pick_w,
                "a click picks neuron %d,%d,%d: the cell under it, its strongest channel (got %d,%d,%d)",
                expect_c, pick_h, pick_w, last_result ? last_result->params.neuron[0] : -1,
                last_result ? last_result->params.neuron[1] : -1, last_result ? last_result->params.neuron[2] : -1);
        tap_ok (hl_image_view_get_marker (view, &marker) &&
                graphene_rect_contains_point (&marker, &GRAPHENE_POINT_INIT ((float) px, (float) py)) &&
                marker.size.width * shape.dims[3] <= map->input_width * map->sx + 1,
                "the marker is the clicked cell (%.1f,%.1f %.1fx%.1f)",
                marker.origin.x, marker.origin.y, marker.size.width, marker.size.height);
        settle ();
        entry = find_named (GTK_WIDGET (win), "neuron");
        spin = find_named (GTK_WIDGET (win), "neuron-channel");
        {
          g_autofree char *expect = g_strdup_printf ("%d,%d,%d", expect_c, pick_h, pick_w);

          tap_ok (entry && strcmp (gtk_editable_get_text (GTK_EDITABLE (entry)), expect) == 0,
                  "the neuron field follows: '%s'", entry ? gtk_editable_get_text (GTK_EDITABLE (entry)) : "");
          tap_ok (spin && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)) == expect_c,
                  "and so does the channel spin button");
        }

        /* the channel kept as typed: only H,W follow the click */
        strongest = find_named (GTK_WIDGET (win), "neuron-strongest");
        if (strongest)
          gtk_check_button_set_active (GTK_CHECK_BUTTON (strongest), FALSE);
        if (spin)
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 3);
        /* the run for 3,pick_h,pick_w starts after the debounce: let it
         * finish so its result is not taken for the click's */
        settle ();
        wait_for (worker_idle, NULL);
        before = n_results;
        g_signal_emit_by_name (view, "picked", map->x0 + 0.5 * map->sx, map->y0 + 0.5 * map->sy);
        wait_count (&n_results, before);
        tap_ok (n_results > before && last_result && last_result->params.neuron[0] == 3 &&
                last_result->params.neuron[1] == 0 && last_result->params.neuron[2] == 0,
                "with 'strongest channel' off, a click in the crop's corner picks 3,0,0 (channel from the spin button; got %d,%d,%d)",
                last_result ? last_result->params.neuron[0] : -1, last_result ? last_result->params.neuron[1] : -1,
                last_result ? last_result->params.neuron[2] : -1);

        /* typed in the field: the marker moves */
        entry = find_named (GTK_WIDGET (win), "neuron");
        if (entry)
          {
            g_autofree char *text = g_strdup_printf ("2,%d,%d", (int) shape.dims[2] - 1, (int) shape.dims[3] - 1);

            gtk_editable_set_text (GTK_EDITABLE (entry), text);
            g_signal_emit_by_name (entry, "activate");
          }
        tap_ok (hl_image_view_get_marker (view, &marker) &&
                fabs (marker.origin.x + marker.size.width - (map->x0 + map->input_width * map->sx)) < 0.5 &&
                fabs (marker.origin.y + marker.size.height - (map->y0 + map->input_height * map->sy)) < 0.5,
                "a neuron typed in the field (last cell) moves the marker to the crop's bottom-right corner");
        settle ();
        spin = find_named (GTK_WIDGET (win), "neuron-channel");
        tap_ok (spin && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)) == 2,
                "and the channel spin button shows its channel");

        /* the panel was rebuilt since: find the check box again */
        strongest = find_named (GTK_WIDGET (win), "neuron-strongest");
        if (strongest)
          gtk_check_button_set_active (GTK_CHECK_BUTTON (strongest), TRUE);

        /* another layer that has no neuron 1000,0,0: the neuron moves to
         * its centre, at its strongest channel */
        {
          const char *small = NULL;
          hl_shape small_shape = { 0 };
          g_autofree char *kv = NULL;

          for (int i = 0; i < hl_model_num_nodes (model) && small == NULL; i++)
            {
              hl_node_info info;

              hl_model_node_info (model, i, &info);
              if (info.shape.ndim == 4 && info.shape.dims[1] < 1000 && info.shape.dims[2] > 8)
                {
                  small = info.name;
                  small_shape = info.shape;
                }
            }
          act_s ("set-param", "neuron=1000,0,0");
          settle ();
          wait_for (worker_idle, NULL);
          before = n_results;
          kv = g_strdup_printf ("layer=%s", small ? small : "");
          act_s ("set-param", kv);
          wait_count (&n_results, before);
          if (small && last_result)
            {
              /* its strongest channel at the centre, from the test's own run
               * (Conv/Relu6 is clipped: ties at the top are passed over) */
              hl_shape ss;
              const float *sa = hl_run_value (run, hl_model_find_value (model, small), &ss);
              int64_t sp = ss.dims[2] * ss.dims[3], sn = ss.dims[1] * sp, s_top = 0;
              int64_t at = (int64_t) last_result->params.neuron[1] * ss.dims[3] + last_result->params.neuron[2];
              float stop = sa ? sa[0] : 0;
              int best = -1;

              for (int64_t i = 0; sa && i < sn; i++)
                stop = MAX (stop, sa[i]);
              for (int64_t i = 0; sa && i < sn; i++)
                s_top += sa[i] == stop;
              for (int64_t ch = 0; sa && at < sp && ch < ss.dims[1]; ch++)
                if (!(s_top > 1 && sa[ch * sp + at] == stop) &&
                    (best < 0 || sa[ch * sp + at] > sa[best * sp + at]))
                  best = (int) ch;
              tap_ok (best >= 0 && last_result->params.neuron[0] == best,
                      "and takes its strongest channel there (%d, expected %d)",
                      last_result->params.neuron[0], best);
            }
          tap_ok (small && n_results > before && last_result &&
                  strcmp (last_result->params.layer, small) == 0 &&
                  last_result->params.neuron[0] < small_shape.dims[1] &&
                  last_result->params.neuron[1] == (int) ((small_shape.dims[2] - 1) / 2.0 + 0.5) &&
                  last_result->params.neuron[2] == (int) ((small_shape.dims[3] - 1) / 2.0 + 0.5),
                  "switching to layer %s %s: neuron 1000,0,0 (not in it) moves to its centre (got %d,%d,%d)",
                  small ? small : "?", small ? "with fewer channels" : "",
                  last_result ? last_result->params.neuron[0] : -1,
                  last_result ? last_result->params.neuron[1] : -1,
                  last_result ? last_result->params.neuron[2] : -1);
          wait_for (worker_idle, NULL);
        }

        before = n_errors;
        if (map->x0 > 1)
          {
            g_signal_emit_by_name (view, "picked", 0.5, map->y0 + 1.0);
            tap_ok (n_errors > before && strstr (hl_window_get_error (win), "outside"),
                    "a click outside the model's crop says so: %s", hl_window_get_error (win));
          }
        else if (map->y0 > 1)
          {
            g_signal_emit_by_name (view, "picked", map->x0 + 1.0, 0.5);
            tap_ok (n_errors > before && strstr (hl_window_get_error (win), "outside"),
                    "a click outside the model's crop says so: %s", hl_window_get_error (win));
          }
        else
          tap_skip ("the crop covers the whole photo");
      }
    hl_run_free (run);
    hl_array_free (input);
    wait_for (worker_idle, NULL);
    act_s ("set-method", "saliency");
    tap_ok (!hl_image_view_get_picking (view) && !hl_image_view_get_marker (view, NULL),
            "back to saliency: no picking, no marker");
  }

  /* --- shortcuts for presenting: next/previous method and sample ------- */
  {
    HlImageView *view = hl_window_get_image_view (win);
    const char *start = hl_window_get_method (win);
    g_autofree char *first = g_strdup (start);
    g_autoptr(GPtrArray) samples = hl_data_list_samples ();
    g_autofree char *expect = NULL;
    int cat_at = -1;
    guint before;

    act ("next-method", NULL);
    tap_ok (strcmp (hl_window_get_method (win), first) != 0, "next-method moves on (%s -> %s)",
            first, hl_window_get_method (win));
    act ("previous-method", NULL);
    tap_ok (strcmp (hl_window_get_method (win), first) == 0, "previous-method comes back (%s)",
            hl_window_get_method (win));
    for (guint i = 0; i < samples->len; i++)
      if (g_str_has_suffix (samples->pdata[i], "/cat.png"))
        cat_at = (int) i;
    if (cat_at >= 0 && samples->len > 1)
      expect = g_path_get_basename (samples->pdata[(cat_at + 1) % samples->len]);
    before = n_predictions;
    act ("next-sample", NULL);
    wait_count (&n_predictions, before);
    tap_ok (expect && hl_image_view_get_photo (view) &&
            strcmp (hl_photo_get_name (hl_image_view_get_photo (view)), expect) == 0,
            "next-sample after cat.png opens the next sample by name (%s)", expect ? expect : "?");
    before = n_predictions;
    act ("previous-sample", NULL);
    wait_count (&n_predictions, before);
    tap_ok (hl_image_view_get_photo (view) &&
            strcmp (hl_photo_get_name (hl_image_view_get_photo (view)), "cat.png") == 0,
            "previous-sample goes back to cat.png");
    {
      HlClassifier *c = hl_window_get_classifier (win);
      int top1, second;

      /* the sample's own explanation may still be running: let it finish
       * so that the next result is the new target's */
      wait_for (worker_idle, NULL);
      top1 = hl_window_get_target (win);
      act ("next-target", NULL);
      second = hl_window_get_target (win);
      tap_ok (second >= 0 && second != top1 && strstr (hl_classifier_get_label (c, second), "cat") != NULL,
              "next-target explains the second class of the cat photo, another cat: %s",
              second >= 0 ? hl_classifier_get_label (c, second) : "?");
      tap_ok (wait_for (result_for_target, GINT_TO_POINTER (second)),
              "and its map is computed");
      act ("previous-target", NULL);
      tap_ok (hl_window_get_target (win) == top1, "previous-target goes back to the top-1");
      wait_for (worker_idle, NULL);
    }
    {
      /* Page Down from a presentation clicker, with the photo focused */
      g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (win));
      GtkEventController *keys = NULL;
      g_autofree char *method = g_strdup (hl_window_get_method (win));
      gboolean handled = FALSE;

      for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
        {
          g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

          if (g_strcmp0 (gtk_event_controller_get_name (c), "presenter-keys") == 0)
            keys = c;
        }
      gtk_widget_grab_focus (GTK_WIDGET (view));
      if (keys)
        g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Down, 0, (GdkModifierType) 0, &handled);
      tap_ok (handled && strcmp (hl_window_get_method (win), method) != 0,
              "Page Down (what presentation clickers send) moves to the next method (%s -> %s)",
              method, hl_window_get_method (win));
      if (keys)
        g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Up, 0, (GdkModifierType) 0, &handled);
      tap_ok (strcmp (hl_window_get_method (win), method) == 0, "Page Up comes back");
    }
    wait_for (worker_idle, NULL);
  }

  /* --- the shortcuts window (help overlay) opens and lists the keys ---- */
  {
    GList *before = gtk_window_list_toplevels (), *after;
    GtkWidget *shortcuts = NULL;

    tap_ok (g_action_group_has_action (G_ACTION_GROUP (win), "show-help-overlay"),
            "the window has a shortcuts window (gtk/help-overlay.ui)");
    act ("show-help-overlay", NULL);
    settle ();
    after = gtk_window_list_toplevels ();
    for (GList *l = after; l; l = l->next)
      if (GTK_IS_SHORTCUTS_WINDOW (l->data))
        shortcuts = l->data;
    tap_ok (shortcuts != NULL && gtk_widget_get_visible (shortcuts), "Ctrl+? shows it");
    if (shortcuts && g_getenv ("HL_APP_TEST_SHOTS"))   /* for looking at it by eye */
      {
        g_autofree char *p = g_build_filename (g_getenv ("HL_APP_TEST_SHOTS"), "shortcuts.png", NULL);
        int w = gtk_widget_get_width (shortcuts), h = gtk_widget_get_height (shortcuts);
        g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (shortcuts);
        GtkSnapshot *snapshot = gtk_snapshot_new ();
        g_autoptr(GskRenderNode) node = NULL;

        gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
        node = gtk_snapshot_free_to_node (snapshot);
        if (node)
          {
            g_autoptr(GdkTexture) tex =
              gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (shortcuts)), node,
                                           &GRAPHENE_RECT_INIT (0, 0, w, h));

            gdk_texture_save_to_png (tex, p);
          }
      }
    if (shortcuts)
      gtk_window_close (GTK_WINDOW (shortcuts));
    g_list_free (before);
    g_list_free (after);
    settle ();
  }

  /* --- dropping an .onnx file on the window opens it as the model ------- */
  {
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (win));
    GtkDropTarget *target = NULL;
    HlClassifier *before_model = hl_window_get_classifier (win);
    g_autofree char *hardmax = g_build_filename (g_getenv ("HL_SOURCE_ROOT"), "tests", "data", "app", "hardmax.onnx", NULL);

    for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
      {
        g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

        if (GTK_IS_DROP_TARGET (c))
          target = GTK_DROP_TARGET (c);
      }
    tap_ok (target != NULL, "the window takes drops");
    if (target)
      {
        GValue v = G_VALUE_INIT;
        gboolean taken = FALSE;
        guint errors = n_errors, predictions = n_predictions;
        g_autoptr(GFile) bad = g_file_new_for_path (hardmax);
        g_autoptr(GFile) good = g_file_new_for_path (model_path);

        g_value_init (&v, G_TYPE_FILE);
        g_value_set_object (&v, bad);
        g_signal_emit_by_name (target, "drop", &v, 10.0, 10.0, &taken);
        tap_ok (taken && wait_count (&n_errors, errors) && strstr (hl_window_get_error (win), "Hardmax") &&
                hl_window_get_classifier (win) == before_model,
                "a dropped model the engine cannot run: banner, the model stays");
        g_value_set_object (&v, good);
        g_signal_emit_by_name (target, "drop", &v, 10.0, 10.0, &taken);
        tap_ok (taken && wait_count (&n_predictions, predictions) &&
                hl_window_get_classifier (win) != before_model &&
                strcmp (hl_classifier_get_name (hl_window_get_classifier (win)), "mobilenet_v2.onnx") == 0,
                "a dropped .onnx file is loaded as the model and the photo classified again");
        g_value_unset (&v);
        wait_for (worker_idle, NULL);
      }
  }

  /* --- screenshot of the live window ------------------------------------ */
  {
    g_autofree char *shot = g_build_filename (tmpdir, "window.png", NULL);
    hl_image *img;

    settle ();
    tap_ok (hl_window_save_screenshot (win, shot, &error), "the window renders to a PNG");
    img = load_png (shot);
    tap_ok (img && img->width == gtk_widget_get_width (GTK_WIDGET (win)) &&
            img->height == gtk_widget_get_height (GTK_WIDGET (win)) && image_stddev (img) > 10,
            "at the window's size, not blank (%dx%d)", img ? img->width : 0, img ? img->height : 0);
    hl_image_free (img);
  }

  /* --- heatlens --screenshot ------------------------------------------- */
  if (argc > 1)
    {
      g_autofree char *shot = g_build_filename (tmpdir, "cli-shot.png", NULL);
      const char *args[] = { argv[1], "--image", cat_path, "--method", "saliency",
                             "--window-size", "1000x700", "--screenshot", shot, NULL };
      int status = -1;
      hl_image *img;

      g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                    &status, &error);
      tap_ok (g_spawn_check_wait_status (status, NULL), "heatlens --screenshot exits with 0");
      img = load_png (shot);
      tap_ok (img && img->width > 900 && img->width <= 1000 && img->height > 600 &&
              img->height <= 700 && image_stddev (img) > 10,
              "and writes a window-sized picture with content (%dx%d)",
              img ? img->width : 0, img ? img->height : 0);
      hl_image_free (img);
    }

  g_clear_pointer (&saliency, hl_result_unref);
  g_clear_pointer (&ig8, hl_result_unref);
  hl_image_free (cat);
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
  return tap_done ();
}
