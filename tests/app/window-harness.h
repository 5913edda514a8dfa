/* What tests/app/test-window.c's cases share: one real window (made once
 * in main, driven through its actions as a user or a script would), the
 * counters its signals bump, waits that spin the main loop, and the
 * check() that records one named check. */
#pragma once

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <glib/gstdio.h>

#include "engine.h"
#include "heatlens-application.h"
#include "heatlens-data.h"
#include "heatlens-window.h"
#include "image.h"
#include "npy.h"
#include "viz.h"

/* Waits have a generous guard so a hang fails instead of blocking; no
 * check depends on how fast anything runs. */
#define GUARD_S 600.0

typedef struct
{
  HlApplication *app;
  HlWindow      *win;
  HlWorker      *worker;
  char          *tmpdir;
  char          *cat_path;
  char          *model_path;
  char          *heatlens;     /* the heatlens executable, or NULL */
  hl_image      *cat;
  guint          ticks, busy_ticks;
  guint          n_results, n_predictions, n_errors, n_cancelled;
  HlResult      *last_result;  /* as the window emitted it (not a reference) */
  HlResult      *saliency;     /* the first auto-run result (a reference) */
  HlResult      *ig8;          /* integrated_gradients with 8 steps (a reference) */
} Harness;

extern Harness h;   /* defined in test-window.c */

/* Each file's cases, registered in the order they run. */
void window_add_running_tests           (void);
void window_add_export_error_tests      (void);
void window_add_neuron_presenting_tests (void);
void window_add_trust_tests             (void);
void window_add_refine_tests            (void);
void window_test_method_defaults        (void);

/* One check of a case: named in the output either way; a failed one marks
 * the case failed (g_test_fail_printf) and the case goes on, so every
 * check of the case is reported. */
#define check(cond, ...) check_at (!!(cond), __FILE__, __LINE__, __VA_ARGS__)

G_GNUC_PRINTF (4, 5) static void
check_at (gboolean    ok,
          const char *file,
          int         line,
          const char *fmt,
          ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (ok)
    g_test_message ("ok: %s", msg);
  else
    g_test_fail_printf ("%s:%d: %s", file, line, msg);
}

typedef gboolean (*Cond) (gpointer);

G_GNUC_UNUSED static gboolean
wait_for (Cond     cond,
          gpointer data)
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

static gboolean
count_above (gpointer p)
{
  return *((guint **) p)[0] > GPOINTER_TO_UINT (((guint **) p)[1]);
}

/* Wait until *counter grows past `from`. */
G_GNUC_UNUSED static gboolean
wait_count (guint *counter,
            guint  from)
{
  gpointer args[2] = { counter, GUINT_TO_POINTER (from) };

  return wait_for (count_above, args);
}

G_GNUC_UNUSED static gboolean
result_for_target (gpointer p)
{
  return h.last_result && h.last_result->attr.target == GPOINTER_TO_INT (p);
}

G_GNUC_UNUSED static gboolean
worker_idle (gpointer p)
{
  return !hl_worker_get_busy (h.worker) && hl_worker_get_n_running (h.worker) == 0;
}

G_GNUC_UNUSED static gboolean
worker_busy (gpointer p)
{
  return hl_worker_get_busy (h.worker);
}

G_GNUC_UNUSED static gboolean
worker_progressed (gpointer p)
{
  return hl_worker_get_fraction (h.worker) > 0;
}

/* Spin the loop briefly (debounce timers, idles) without a time check. */
G_GNUC_UNUSED static void
settle (void)
{
  guint until = h.ticks + 60;

  while (h.ticks < until)
    g_main_context_iteration (NULL, TRUE);
}

G_GNUC_UNUSED static GtkWidget *
find_named (GtkWidget  *w,
            const char *name)
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

G_GNUC_UNUSED static GtkWidget *
win_named (const char *name)
{
  return find_named (GTK_WIDGET (h.win), name);
}

G_GNUC_UNUSED static void
act (const char *name,
     GVariant   *param)
{
  g_action_group_activate_action (G_ACTION_GROUP (h.win), name, param);
}

G_GNUC_UNUSED static void
act_s (const char *name,
       const char *value)
{
  act (name, g_variant_new_string (value));
}

/* Activate an action, then wait for the next result. */
G_GNUC_UNUSED static gboolean
act_s_and_wait_result (const char *name,
                       const char *value)
{
  guint before = h.n_results;

  act_s (name, value);
  return wait_count (&h.n_results, before);
}

/* Pixel standard deviation over all channels: 0 for a blank picture. */
G_GNUC_UNUSED static double
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

G_GNUC_UNUSED static gboolean
file_starts_with (const char *path,
                  const char *magic,
                  gsize       search_len)
{
  g_autofree char *data = NULL;
  gsize len = 0, n, m;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  n = MIN (len, search_len);
  m = strlen (magic);
  /* binary files (PNG) hold NULs: compare bytes, not C strings */
  for (gsize i = 0; i + m <= n; i++)
    if (memcmp (data + i, magic, m) == 0)
      return TRUE;
  return FALSE;
}

G_GNUC_UNUSED static hl_image *
load_png (const char *path)
{
  hl_image *img = NULL;

  hl_image_load (path, &img, NULL);
  return img;
}

G_GNUC_UNUSED static char *
tmp_path (const char *name)
{
  return g_build_filename (h.tmpdir, name, NULL);
}

/* The strongest channel at cell `at` of a [1,C,H,W] activation, computed
 * here (not by the window); ties at the layer's maximum (ReLU6 at its
 * ceiling) are passed over. */
G_GNUC_UNUSED static int
strongest_channel (const float    *act,
                   const hl_shape *shape,
                   int64_t         at)
{
  int64_t plane = shape->dims[2] * shape->dims[3], n = shape->dims[1] * plane, n_top = 0;
  float top = act[0];
  int best = -1;

  for (int64_t i = 0; i < n; i++)
    top = MAX (top, act[i]);
  for (int64_t i = 0; i < n; i++)
    n_top += act[i] == top;
  for (int64_t ch = 0; at < plane && ch < shape->dims[1]; ch++)
    if (!(n_top > 1 && act[ch * plane + at] == top) &&
        (best < 0 || act[ch * plane + at] > act[best * plane + at]))
      best = (int) ch;
  return best;
}
