/* The window's Trust page (HlMetricsPanel) under Xvfb, one GTest case per
 * behaviour, on one window with the bundled model and the cat: the page
 * opens and draws (a picture with content, not a blank page), its numbers
 * equal `heatlens-cli evaluate --json` for the same request (the CLI run
 * here as an independent process), the curves grow while it runs,
 * exports of the view include the plots when the page is shown, and a
 * new explain run stops it. Waits have a generous guard so a hang fails
 * instead of blocking; no check depends on how fast anything runs.
 * Usage: test-metrics PATH/TO/heatlens-cli [--tap] */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "heatlens-application.h"
#include "heatlens-data.h"
#include "heatlens-map-texture.h"
#include "heatlens-metrics-panel.h"
#include "heatlens-trust-bar.h"
#include "heatlens-window.h"
#include "image.h"

#define GUARD_US (900 * G_USEC_PER_SEC)

static HlWindow *win;
static const char *cli_exe;
static char *tmpdir;
static guint n_results, n_ready, n_partials;
static HlResult *last_result;

static void result_cb (HlWindow *w, HlResult *r, gpointer d) { n_results++; last_result = r; }
static void ready_cb (HlMetricsPanel *p, gpointer d) { n_ready++; }

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

static gboolean results_above (gpointer p) { return n_results > GPOINTER_TO_UINT (p); }
static gboolean ready_above (gpointer p) { return n_ready > GPOINTER_TO_UINT (p); }

static HlMetricsPanel *
panel (void)
{
  GtkWidget *stack = NULL;
  GtkWidget *w = GTK_WIDGET (win);
  GPtrArray *todo = g_ptr_array_new ();

  /* the panel is named "metrics-panel" */
  g_ptr_array_add (todo, w);
  while (todo->len && stack == NULL)
    {
      GtkWidget *x = g_ptr_array_steal_index (todo, todo->len - 1);

      if (g_strcmp0 (gtk_widget_get_name (x), "metrics-panel") == 0)
        stack = x;
      for (GtkWidget *c = gtk_widget_get_first_child (x); c; c = gtk_widget_get_next_sibling (c))
        g_ptr_array_add (todo, c);
    }
  g_ptr_array_free (todo, TRUE);
  g_assert_nonnull (stack);
  return HL_METRICS_PANEL (stack);
}

static void
settle (void)
{
  for (int i = 0; i < 10; i++)
    {
      g_usleep (10000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

/* Pixel standard deviation of a PNG (0: blank) and its size. */
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

static void
show_page (const char *name)
{
  g_action_group_activate_action (G_ACTION_GROUP (win), "page", g_variant_new_string (name));
  settle ();
}

/* ------------------------------------------------------------ cases */

static gboolean
count_partials (gpointer data)
{
  const hl_metric_plots *plots = hl_metrics_panel_get_plots (panel ());

  /* a curve shown before its last point: the page grows while running */
  if (plots && hl_metrics_panel_get_running (panel ()))
    for (int i = 0; i < plots->n_curves; i++)
      if (plots->curves[i].n > 1 && plots->curves[i].n < 51)
        n_partials++;
  return G_SOURCE_CONTINUE;
}

static void
test_opens_and_draws (void)
{
  guint ready = n_ready;
  guint source = g_timeout_add (5, count_partials, NULL);
  g_autofree char *shot = g_build_filename (tmpdir, "metrics.png", NULL);
  g_autoptr(GError) error = NULL;
  const hl_evaluation *e;
  int w, h;
  double sd;

  show_page ("metrics");
  g_assert_true (hl_metrics_panel_get_running (panel ()) || n_ready > ready);
  g_assert_true (wait_for (ready_above, GUINT_TO_POINTER (ready)));
  g_source_remove (source);
  settle ();
  e = hl_metrics_panel_get_evaluation (panel ());
  g_assert_nonnull (e);
  g_assert_cmpint (e->done, ==, HL_METRIC_ALL);
  g_assert_cmpint (e->curves[0].n, ==, 51);
  g_assert_cmpint (e->random.n, ==, 6);
  g_test_message ("partial pages with a curve under way: %u", n_partials);
  g_assert_cmpuint (n_partials, >, 0);
  /* the whole window, for a person to look at */
  g_assert_true (hl_widget_save_png (GTK_WIDGET (win), shot, &error));
  if (g_getenv ("HL_METRICS_SCREENSHOT"))
    hl_widget_save_png (GTK_WIDGET (win), g_getenv ("HL_METRICS_SCREENSHOT"), NULL);
  g_clear_pointer (&shot, g_free);
  shot = g_build_filename (tmpdir, "panel.png", NULL);
  g_assert_true (hl_widget_save_png (GTK_WIDGET (panel ()), shot, &error));
  sd = png_stddev (shot, &w, &h);
  g_test_message ("panel %dx%d, pixel stddev %.1f", w, h, sd);
  g_assert_cmpint (w, >=, 400);
  g_assert_cmpint (h, >=, 300);
  g_assert_cmpfloat (sd, >, 10);
}

static double
member_double (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_TYPE (n) == JSON_NODE_VALUE ? json_node_get_double (n) : NAN;
}

static void
check_close (const char *what, double window, double cli)
{
  double rel = fabs (window - cli) / fmax (fabs (cli), 1e-12);

  g_test_message ("%s: window %.9g, CLI %.9g (rel %.2e)", what, window, cli, rel);
  /* the CLI prints 6-9 significant digits; engine sums in another order
   * on another thread count stay far below 1e-4 */
  if (!(rel <= 1e-4 || fabs (window - cli) <= 1e-6))
    g_error ("%s: window %.9g differs from heatlens-cli evaluate %.9g", what, window, cli);
}

static void
test_numbers_equal_cli (void)
{
  const hl_evaluation *e = hl_metrics_panel_get_evaluation (panel ());
  HlPhoto *photo = hl_window_get_photo (win);
  g_autofree char *model = hl_data_default_model ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o, *rnd;
  JsonArray *stages;
  int status = 0;
  const char *argv[] = { cli_exe, "evaluate", "--model", model, "--image",
                         hl_photo_get_path (photo), "--method", "saliency", "--json", NULL };

  g_assert_nonnull (e);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("heatlens-cli evaluate failed: %s", err);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "target"), ==, e->target);
  check_close ("infidelity", e->infidelity, member_double (o, "infidelity"));
  check_close ("sensitivity_max", e->sensitivity, member_double (o, "sensitivity_max"));
  check_close ("deletion AUC", e->curves[0].auc,
               member_double (json_object_get_object_member (o, "deletion"), "auc"));
  check_close ("insertion AUC", e->curves[1].auc,
               member_double (json_object_get_object_member (o, "insertion"), "auc"));
  rnd = json_object_get_object_member (o, "randomization");
  stages = json_object_get_array_member (rnd, "stages");
  g_assert_cmpint ((int) json_array_get_length (stages), ==, e->random.n);
  for (int s = 0; s < e->random.n; s++)
    {
      JsonObject *st = json_array_get_object_element (stages, s);

      check_close ("randomisation Spearman", e->random.spearman[s], member_double (st, "spearman"));
      check_close ("randomisation SSIM", e->random.ssim[s], member_double (st, "ssim"));
    }
  g_assert_cmpint (json_object_get_boolean_member (rnd, "flagged"), ==, e->random.flagged);
}

static void
test_export_includes_plots (void)
{
  g_autofree char *with = g_build_filename (tmpdir, "with.png", NULL);
  g_autofree char *without = g_build_filename (tmpdir, "without.png", NULL);
  g_autofree char *pdf = g_build_filename (tmpdir, "with.pdf", NULL);
  g_autofree char *svg = g_build_filename (tmpdir, "with.svg", NULL);
  g_autofree char *pdf_text = NULL;
  g_autofree char *svg_text = NULL;
  int w1, h1, w2, h2, plots_w, plots_h;
  g_autoptr(GVariant) v = NULL;

  show_page ("metrics");
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-view-to", g_variant_new_string (with));
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-view-to", g_variant_new_string (pdf));
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-view-to", g_variant_new_string (svg));
  show_page ("view");
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-view-to", g_variant_new_string (without));
  g_assert_null (hl_window_get_error (win));
  if (g_getenv ("HL_METRICS_EXPORT"))
    {
      g_autofree char *bytes = NULL;
      gsize len;

      if (g_file_get_contents (with, &bytes, &len, NULL))
        g_file_set_contents (g_getenv ("HL_METRICS_EXPORT"), bytes, len, NULL);
    }
  png_stddev (with, &w1, &h1);
  png_stddev (without, &w2, &h2);
  hl_metric_plots_size (hl_metrics_panel_get_plots (panel ()), 0, &plots_w, &plots_h);
  g_test_message ("view export %dx%d, with the Trust page %dx%d (plots %dx%d)", w2, h2, w1, h1,
                  plots_w, plots_h);
  /* the page's plots are under the picture: taller than the plots alone */
  g_assert_cmpint (w1, ==, plots_w);
  g_assert_cmpint (h1, >, plots_h);
  g_assert_true (g_file_get_contents (pdf, &pdf_text, NULL, NULL));
  g_assert_true (g_str_has_prefix (pdf_text, "%PDF"));
  g_assert_true (g_file_get_contents (svg, &svg_text, NULL, NULL));
  g_assert_nonnull (strstr (svg_text, "<svg"));
  g_assert_nonnull (strstr (svg_text, "heatlens.method"));
}

static void
test_new_run_stops_it (void)
{
  guint results = n_results;
  GError *error = NULL;

  show_page ("metrics");
  g_assert_true (hl_window_set_param (win, "abs", "false", &error) ||
                 (g_clear_error (&error), hl_window_set_method (win, "input_x_gradient", NULL)));
  hl_window_run (win);
  /* the explain job took the engine: the running evaluation stopped */
  g_assert_true (wait_for (results_above, GUINT_TO_POINTER (results)));
  settle ();
  /* and the new result is being measured (the page is shown) */
  g_assert_true (hl_metrics_panel_get_running (panel ()) ||
                 hl_metrics_panel_get_evaluation (panel ()) != NULL);
  hl_metrics_panel_set_metrics (panel (), HL_METRIC_DELETION);
  g_assert_true (wait_for (ready_above, GUINT_TO_POINTER (n_ready)));
  g_assert_cmpint (hl_metrics_panel_get_evaluation (panel ())->done, ==, HL_METRIC_DELETION);
  show_page ("view");
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

/* Guided Backprop on the bundled model (ReLU6 only) is the plain
 * gradient: the notice under the picture offers the ReLU-family option,
 * its button turns it on, and the notice is gone. */
static void
test_notice_offers_relu_family (void)
{
  HlTrustBar *bar = hl_window_get_trust_bar (win);
  GtkWidget *button = find_named (GTK_WIDGET (bar), "trust-offer");
  guint results = n_results;

  show_page ("view");
  g_assert_true (hl_window_set_method (win, "guided_backprop", NULL));
  hl_window_run (win);
  g_assert_true (wait_for (results_above, GUINT_TO_POINTER (results)));
  settle ();
  g_test_message ("notice: %s; offer: %s", hl_trust_bar_get_notice (bar), hl_trust_bar_get_offer (bar));
  g_assert_nonnull (strstr (hl_trust_bar_get_notice (bar), "plain gradient"));
  g_assert_cmpstr (hl_trust_bar_get_offer (bar), ==, "relu-family=true");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_visible (button));
  results = n_results;
  g_assert_true (gtk_widget_activate (button));
  hl_window_run (win);
  g_assert_true (wait_for (results_above, GUINT_TO_POINTER (results)));
  settle ();
  g_assert_true (last_result->params.relu_family);
  g_assert_cmpstr (hl_trust_bar_get_notice (bar), ==, "");
  g_assert_cmpstr (hl_trust_bar_get_offer (bar), ==, "");
  g_assert_false (gtk_widget_get_visible (button));
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
  cli_exe = argc > 1 ? argv[1] : NULL;
  if (cli_exe == NULL)
    g_error ("usage: test-metrics PATH/TO/heatlens-cli");
  tmpdir = g_dir_make_tmp ("heatlens-metrics-XXXXXX", NULL);
  app = hl_application_new ();
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  model = hl_data_default_model ();
  if (model == NULL)
    {
      g_test_skip ("bundled model missing");
      return 0;
    }
  win = hl_window_new (GTK_APPLICATION (app));
  g_signal_connect (win, "result-shown", G_CALLBACK (result_cb), NULL);
  gtk_window_set_default_size (GTK_WINDOW (win), 1280, 900);
  gtk_window_present (GTK_WINDOW (win));
  g_signal_connect (panel (), "ready", G_CALLBACK (ready_cb), NULL);
  g_action_group_activate_action (G_ACTION_GROUP (win), "set-method", g_variant_new_string ("saliency"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "load-model", g_variant_new_string (model));
  g_action_group_activate_action (G_ACTION_GROUP (win), "load-sample", g_variant_new_string ("cat"));
  if (!wait_for (results_above, GUINT_TO_POINTER (0)))
    g_error ("no first result for the cat");

  g_test_add_func ("/metrics/page/opens-and-draws", test_opens_and_draws);
  g_test_add_func ("/metrics/numbers/equal-cli-evaluate", test_numbers_equal_cli);
  g_test_add_func ("/metrics/export/includes-plots", test_export_includes_plots);
  g_test_add_func ("/metrics/explain-run/stops-and-restarts", test_new_run_stops_it);
  g_test_add_func ("/trust/notice/offers-relu-family", test_notice_offers_relu_family);
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
  }
  g_rmdir (tmpdir);
  return status;
}
