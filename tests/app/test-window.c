/* The real window driven through its actions under Xvfb: load a sample,
 * pick methods, change IG steps, run, hit the cache, cancel a long run,
 * replace a running request, pin, export (PNG/PDF/SVG, grid, .npy), error
 * banners, settings, screenshot, and the `heatlens --screenshot` command.
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
    guint before = n_results;
    HlClassifier *c = hl_window_get_classifier (win);
    int other = 282;   /* any class that is not the top-1 */

    if (hl_window_get_target (win) == other)
      other = 283;
    act ("set-target", g_variant_new_int32 (other));
    tap_ok (wait_count (&n_results, before) && last_result && last_result->attr.target == other,
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
