/* HlLayerBrowser: a layer's channels over the photo, strongest first (see
 * heatlens-layer-browser.h). */
#include "heatlens-layer-browser.h"
#include "heatlens-error.h"
#include "heatlens-map-texture.h"
#include "heatlens-search-anywhere.h"

#include <math.h>
#include <string.h>

#define TILE 112

struct _HlLayerBrowser
{
  GtkWindow          parent_instance;

  GtkDropDown       *layer_dropdown;
  GtkLabel          *status_label;
  GtkFlowBox        *channel_flow;

  HlClassifier      *classifier;
  HlPrediction      *prediction;
  hl_image          *crop;
  GPtrArray         *layers;        /* names of the 4-D layers */
  GCancellable      *cancellable;   /* the layer being computed */
  hl_layer_channels  channels;
  gboolean           ready;
  char              *error;
  char              *layer;
};

G_DEFINE_FINAL_TYPE (HlLayerBrowser, hl_layer_browser, GTK_TYPE_WINDOW)

enum { SIGNAL_READY, SIGNAL_CHANNEL_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------ the thread */

typedef struct
{
  HlClassifier      *classifier;
  HlPrediction      *prediction;
  char              *layer;
  hl_layer_channels  channels;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->classifier);
  g_clear_pointer (&job->prediction, hl_prediction_unref);
  g_free (job->layer);
  hl_layer_channels_clear (&job->channels);
  g_free (job);
}

static void
job_thread (GTask        *task,
            gpointer      source,
            gpointer      data,
            GCancellable *cancellable)
{
  Job *job = data;
  hl_error err = { 0 };
  GError *error = NULL;

  if (hl_layer_channels_compute (hl_classifier_get_model (job->classifier),
                                 job->prediction->input, job->layer, NULL,
                                 &job->channels, &err) != HL_OK)
    {
      hl_app_error_from_hl (&error, &err);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------ the grid */

static GtkWidget *
make_tile (HlLayerBrowser *self,
           int             rank)
{
  const hl_layer_channels *lc = &self->channels;
  int c = lc->order[rank];
  hl_shape shape = { 4, { 1, 1, lc->height, lc->width } };
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *picture = gtk_picture_new ();
  g_autofree char *caption = g_strdup_printf ("ch %d  ·  %.2f", c, lc->strength[c]);
  g_autofree char *tip = g_strdup_printf ("Channel %d, mean activation %.3f, strongest at H,W = %d,%d: "
                                          "click to see what in the photo drives it (Neuron Guided Backprop)",
                                          c, lc->strength[c], lc->peak[c] / lc->width, lc->peak[c] % lc->width);
  GtkWidget *label = gtk_label_new (caption);

  texture = hl_texture_new_from_map (lc->act + (int64_t) c * lc->height * lc->width, &shape,
                                     HL_SIGN_POSITIVE, self->crop, TILE, TILE, &error);
  gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (texture));
  gtk_widget_set_size_request (picture, TILE, TILE);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), picture);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_tooltip_text (box, error ? error->message : tip);
  return box;
}

static void
fill_grid (HlLayerBrowser *self)
{
  const hl_layer_channels *lc = &self->channels;
  int shown = MIN (lc->channels, HL_LAYER_BROWSER_MAX_CHANNELS);
  g_autofree char *status = NULL;

  for (int r = 0; r < shown; r++)
    gtk_flow_box_append (self->channel_flow, make_tile (self, r));
  status = g_strdup_printf ("%d channels of %d×%d; the %d most active on this photo, strongest first. "
                            "Click one to see what drives it.",
                            lc->channels, lc->height, lc->width, shown);
  gtk_label_set_text (self->status_label, status);
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  HlLayerBrowser *self = data;
  g_autoptr(GError) error = NULL;
  Job *job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->error = g_strdup (error->message);
          self->ready = TRUE;
          gtk_label_set_text (self->status_label, error->message);
          g_signal_emit (self, signals[SIGNAL_READY], 0);
        }
      g_object_unref (self);
      return;
    }
  self->channels = job->channels;
  memset (&job->channels, 0, sizeof job->channels);
  self->ready = TRUE;
  fill_grid (self);
  g_signal_emit (self, signals[SIGNAL_READY], 0);
  g_object_unref (self);
}

static void
clear_grid (HlLayerBrowser *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->channel_flow))))
    gtk_flow_box_remove (self->channel_flow, child);
  hl_layer_channels_clear (&self->channels);
  g_clear_pointer (&self->error, g_free);
  self->ready = FALSE;
}

gboolean
hl_layer_browser_set_layer (HlLayerBrowser *self,
                            const char     *layer)
{
  g_autoptr(GTask) task = NULL;
  Job *job;
  guint index = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; i < self->layers->len; i++)
    if (g_strcmp0 (self->layers->pdata[i], layer) == 0)
      index = i;
  if (index == GTK_INVALID_LIST_POSITION)
    return FALSE;
  /* shown or being computed (selecting it in the list below comes back
   * here): nothing to do, unless it failed */
  if (g_strcmp0 (self->layer, layer) == 0 && self->error == NULL)
    return TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  clear_grid (self);
  g_free (self->layer);
  self->layer = g_strdup (layer);
  if (gtk_drop_down_get_selected (self->layer_dropdown) != index)
    gtk_drop_down_set_selected (self->layer_dropdown, index);
  gtk_label_set_text (self->status_label, "Computing the layer's activations…");
  job = g_new0 (Job, 1);
  job->classifier = g_object_ref (self->classifier);
  job->prediction = hl_prediction_ref (self->prediction);
  job->layer = g_strdup (layer);
  task = g_task_new (NULL, self->cancellable, job_done_cb, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
  return TRUE;
}

static void
layer_selected_cb (GtkDropDown    *dropdown,
                   GParamSpec     *pspec,
                   HlLayerBrowser *self)
{
  guint i = gtk_drop_down_get_selected (dropdown);

  if (i < self->layers->len)
    hl_layer_browser_set_layer (self, self->layers->pdata[i]);
}

void
hl_layer_browser_activate (HlLayerBrowser *self,
                           int             rank)
{
  const hl_layer_channels *lc = &self->channels;
  int c;

  if (!self->ready || self->error || rank < 0 || rank >= MIN (lc->channels, HL_LAYER_BROWSER_MAX_CHANNELS))
    return;
  c = lc->order[rank];
  g_signal_emit (self, signals[SIGNAL_CHANNEL_ACTIVATED], 0, self->layer, c,
                 lc->peak[c] / lc->width, lc->peak[c] % lc->width);
}

static void
child_activated_cb (GtkFlowBox      *flow,
                    GtkFlowBoxChild *child,
                    HlLayerBrowser  *self)
{
  hl_layer_browser_activate (self, gtk_flow_box_child_get_index (child));
}

/* ------------------------------------------------------------ public */


HlLayerBrowser *
hl_layer_browser_new (GtkWindow    *parent,
                      HlClassifier *classifier,
                      HlPrediction *prediction,
                      const char   *layer)
{
  HlLayerBrowser *self = g_object_new (HL_TYPE_LAYER_BROWSER, "transient-for", parent, NULL);
  const hl_model *m = hl_classifier_get_model (classifier);
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  g_autoptr(GtkExpression) expr = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  char fallback[256] = "";

  self->classifier = g_object_ref (classifier);
  self->prediction = hl_prediction_ref (prediction);
  self->crop = hl_texture_crop_image (prediction);
  for (int i = 0; i < hl_model_num_nodes (m); i++)
    {
      hl_node_info info;
      char shape[64];
      g_autofree char *label = NULL;

      hl_model_node_info (m, i, &info);
      if (info.shape.ndim != 4)
        continue;
      hl_shape_format (&info.shape, shape, sizeof shape);
      label = g_strdup_printf ("%s  %s %s", info.name, info.op, shape);
      g_ptr_array_add (self->layers, g_strdup (info.name));
      gtk_string_list_append (labels, label);
    }
  gtk_drop_down_set_expression (self->layer_dropdown, expr);
  gtk_drop_down_set_model (self->layer_dropdown, G_LIST_MODEL (labels));
  hl_drop_down_search_anywhere (self->layer_dropdown);
  g_signal_connect (self->layer_dropdown, "notify::selected", G_CALLBACK (layer_selected_cb), self);
  /* the layer asked for, else the one layer methods explain by default */
  if ((layer == NULL || !hl_layer_browser_set_layer (self, layer)) &&
      (hl_default_layer (m, fallback, sizeof fallback, NULL) != HL_OK ||
       !hl_layer_browser_set_layer (self, fallback)))
    gtk_label_set_text (self->status_label, "This model has no feature maps ([1,C,H,W] layers).");
  return self;
}

const char *
hl_layer_browser_get_layer (HlLayerBrowser *self)
{
  return self->layer;
}

const hl_layer_channels *
hl_layer_browser_get_channels (HlLayerBrowser *self)
{
  return self->ready && !self->error ? &self->channels : NULL;
}

const char *
hl_layer_browser_get_error (HlLayerBrowser *self)
{
  return self->error;
}

/* ------------------------------------------------------------ GObject */

static void
hl_layer_browser_dispose (GObject *object)
{
  HlLayerBrowser *self = HL_LAYER_BROWSER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  G_OBJECT_CLASS (hl_layer_browser_parent_class)->dispose (object);
}

static void
hl_layer_browser_finalize (GObject *object)
{
  HlLayerBrowser *self = HL_LAYER_BROWSER (object);

  g_clear_object (&self->cancellable);
  hl_layer_channels_clear (&self->channels);
  hl_image_free (self->crop);
  g_ptr_array_unref (self->layers);
  g_free (self->error);
  g_free (self->layer);
  G_OBJECT_CLASS (hl_layer_browser_parent_class)->finalize (object);
}

static void
hl_layer_browser_class_init (HlLayerBrowserClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = hl_layer_browser_dispose;
  G_OBJECT_CLASS (klass)->finalize = hl_layer_browser_finalize;
  signals[SIGNAL_READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CHANNEL_ACTIVATED] =
    g_signal_new ("channel-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_STRING, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/heatlens/Heatlens/ui/heatlens-layer-browser.ui");
  gtk_widget_class_bind_template_child (widget_class, HlLayerBrowser, layer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HlLayerBrowser, status_label);
  gtk_widget_class_bind_template_child (widget_class, HlLayerBrowser, channel_flow);
}

static void
hl_layer_browser_init (HlLayerBrowser *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->layers = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  g_signal_connect (self->channel_flow, "child-activated", G_CALLBACK (child_activated_cb), self);
}
