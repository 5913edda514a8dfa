/* HlIgPathView: the IG path explorer (see heatlens-ig-path-view.h). */
#include "heatlens-ig-path-view.h"
#include "heatlens-error.h"
#include "heatlens-map-texture.h"
#include "label_names.h"

#include <math.h>
#include <string.h>

#define CURVE_POINTS 41
#define N_PICTURES 3

struct _HlIgPathView
{
  GtkWindow       parent_instance;

  GtkLabel       *title_label;
  GtkLabel       *status_label;
  GtkBox         *pictures_box;
  GtkDrawingArea *curve_area;
  GtkScale       *step_scale;
  GtkAdjustment  *step_adjustment;
  GtkLabel       *step_label;
  GtkLabel       *sum_label;

  GtkPicture     *pictures[N_PICTURES];
  HlClassifier   *classifier;
  HlPrediction   *prediction;
  hl_image       *crop;          /* the photo as the model sees it */
  GCancellable   *cancellable;
  hl_ig_path      path;
  gboolean        ready;
  char           *error;
  int             step;
};

G_DEFINE_FINAL_TYPE (HlIgPathView, hl_ig_path_view, GTK_TYPE_WINDOW)

enum { SIGNAL_READY, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *const picture_captions[N_PICTURES] = {
  "Input at α", "Gradient at α", "Attribution up to α",
};
static const char *const picture_tips[N_PICTURES] = {
  "baseline + α (photo − baseline): what the model sees at this step",
  "|∂F/∂x| at this step: where the class score is sensitive",
  "(photo − baseline) × Σ weight × gradient over the steps so far; at α = 1 this is IG",
};

/* ------------------------------------------------------------ the thread */

typedef struct
{
  HlClassifier   *classifier;
  HlPrediction   *prediction;
  hl_attr_params  params;
  hl_ig_path      path;
  volatile int    cancel;       /* raised by the view's cancellable */
  GCancellable   *cancellable;
  gulong          cancel_id;
} Job;

static void
job_free (Job *job)
{
  /* the view may cancel later (closing): not into a freed job */
  g_cancellable_disconnect (job->cancellable, job->cancel_id);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->classifier);
  g_clear_pointer (&job->prediction, hl_prediction_unref);
  hl_ig_path_clear (&job->path);
  g_free (job);
}

static void
job_cancelled_cb (GCancellable *cancellable,
                  Job          *job)
{
  job->cancel = 1;
}

static void
job_thread (GTask        *task,
            gpointer      source,
            gpointer      data,
            GCancellable *cancellable)
{
  Job *job = data;
  const hl_preprocess *pp = hl_classifier_get_preprocess (job->classifier);
  hl_attr_context ctx = { 0 };
  hl_error err = { 0 };
  GError *error = NULL;

  ctx.mean = pp->mean;
  ctx.std = pp->std;
  ctx.pixel_scale = pp->scale;
  ctx.image01 = job->prediction->image01;
  ctx.cancel = &job->cancel;
  if (hl_ig_path_compute (hl_classifier_get_model (job->classifier),
                          job->prediction->input, &job->params, &ctx,
                          CURVE_POINTS, &job->path, &err) != HL_OK)
    {
      hl_app_error_from_hl (&error, &err);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* ------------------------------------------------------------ drawing */

static void
draw_curve (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  HlIgPathView *self = data;
  const hl_ig_path *p = &self->path;
  GdkRGBA fg;
  double left, right = 16, top = 12, bottom, w, h;

  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  {
    /* the theme's font size (presentation mode enlarges it), in pixels */
    const PangoFontDescription *font =
      pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (area)));
    double size = font ? pango_font_description_get_size (font) / (double) PANGO_SCALE : 10;

    if (font && !pango_font_description_get_size_is_absolute (font))
      size *= 96.0 / 72.0;
    cairo_set_font_size (cr, size * 0.9);
    left = size * 5.5;
    bottom = size * 3;
    w = width - left - right;
    h = height - top - bottom;
  }
  cairo_set_line_width (cr, 1);
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_rectangle (cr, left, top, w, h);
  cairo_stroke (cr);
  for (int i = 0; i <= 4; i++)
    {
      char text[16];
      double t = i / 4.0;

      g_snprintf (text, sizeof text, "%.2g", t);
      cairo_move_to (cr, left + t * w - 8, top + h + bottom * 0.45);
      cairo_show_text (cr, text);
      cairo_move_to (cr, left * 0.45, top + (1 - t) * h + 4);
      cairo_show_text (cr, text);
    }
  cairo_move_to (cr, left + w / 2 - 4, height - 4);
  cairo_show_text (cr, "α");
  cairo_save (cr);
  cairo_move_to (cr, left * 0.3, top + h / 2 + 26);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, "p(class)");
  cairo_restore (cr);
  if (!self->ready || self->error)
    return;
  /* the probability on the uniform grid */
  cairo_new_path (cr);
  cairo_set_line_width (cr, 2);
  cairo_set_source_rgb (cr, 0.2, 0.45, 0.85);
  for (int i = 0; i < p->n_curve; i++)
    cairo_line_to (cr, left + p->curve_alpha[i] * w, top + (1 - p->curve_prob[i]) * h);
  cairo_stroke (cr);
  /* the quadrature points, the current one larger */
  for (int k = 0; k < p->n_steps; k++)
    {
      double x = left + p->step_alpha[k] * w, y = top + (1 - p->step_prob[k]) * h;

      cairo_set_source_rgb (cr, k == self->step ? 0.85 : 0.15, k == self->step ? 0.3 : 0.55, 0.2);
      cairo_arc (cr, x, y, k == self->step ? 6 : 3, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  cairo_set_source_rgba (cr, 0.85, 0.3, 0.2, 0.8);
  cairo_move_to (cr, left + p->step_alpha[self->step] * w, top);
  cairo_line_to (cr, left + p->step_alpha[self->step] * w, top + h);
  cairo_stroke (cr);
}

static void
set_picture (HlIgPathView *self,
             int           index,
             GdkTexture   *texture)
{
  gtk_picture_set_paintable (self->pictures[index], GDK_PAINTABLE (texture));
  if (texture)
    g_object_unref (texture);
}

static void
show_step (HlIgPathView *self)
{
  const hl_ig_path *p = &self->path;
  const hl_shape *shape = &p->input->shape;
  int w = (int) shape->dims[3], h = (int) shape->dims[2];
  g_autofree float *buf = g_new (float, p->numel);
  g_autoptr(GError) error = NULL;
  double sum = 0, full = p->curve_logit[p->n_curve - 1] - p->curve_logit[0];
  g_autofree char *step = NULL;
  g_autofree char *total = NULL;

  hl_ig_path_point (p, p->step_alpha[self->step], buf);
  set_picture (self, 0, hl_texture_new_from_input (hl_classifier_get_preprocess (self->classifier), buf, w, h));
  set_picture (self, 1, hl_texture_new_from_map (hl_ig_path_gradient (p, self->step), shape,
                                                 HL_SIGN_ABSOLUTE_VALUE, NULL, w, h, &error));
  hl_ig_path_accumulated (p, self->step, buf);
  for (int64_t i = 0; i < p->numel; i++)
    sum += buf[i];
  set_picture (self, 2, hl_texture_new_from_map (buf, shape, HL_SIGN_ALL, self->crop, w, h,
                                                 error ? NULL : &error));
  if (error)
    gtk_label_set_text (self->status_label, error->message);
  step = g_strdup_printf ("Step %d of %d:  α = %.3f,  weight %.4f,  p(class) = %.3f,  logit %.2f",
                          self->step + 1, p->n_steps, p->step_alpha[self->step],
                          p->step_weight[self->step], p->step_prob[self->step],
                          p->step_logit[self->step]);
  gtk_label_set_text (self->step_label, step);
  total = g_strdup_printf ("Sum of the attribution so far: %.3f;  F(photo) − F(baseline) = %.3f",
                           sum, full);
  gtk_label_set_text (self->sum_label, total);
  gtk_widget_queue_draw (GTK_WIDGET (self->curve_area));
}

static void
step_changed_cb (GtkAdjustment *adj,
                 HlIgPathView  *self)
{
  hl_ig_path_view_set_step (self, (int) lround (gtk_adjustment_get_value (adj)));
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  HlIgPathView *self = data;
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
  self->path = job->path;
  memset (&job->path, 0, sizeof job->path);
  self->ready = TRUE;
  gtk_label_set_text (self->status_label,
                      "Slide from the baseline (α = 0) to the photo (α = 1); "
                      "the dots are the steps IG sums.");
  gtk_adjustment_configure (self->step_adjustment, self->path.n_steps - 1, 0,
                            self->path.n_steps - 1, 1, 5, 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->step_scale), TRUE);
  self->step = self->path.n_steps - 1;
  show_step (self);
  g_signal_emit (self, signals[SIGNAL_READY], 0);
  g_object_unref (self);
}

/* ------------------------------------------------------------ public */


HlIgPathView *
hl_ig_path_view_new (GtkWindow            *parent,
                     HlClassifier         *classifier,
                     HlPrediction         *prediction,
                     const hl_attr_params *params)
{
  HlIgPathView *self = g_object_new (HL_TYPE_IG_PATH_VIEW, "transient-for", parent, NULL);
  g_autoptr(GTask) task = NULL;
  Job *job = g_new0 (Job, 1);
  int target = params->target >= 0 ? params->target : prediction->top[0];
  char name[128];
  g_autofree char *title = NULL;
  g_autofree char *status = NULL;

  self->classifier = g_object_ref (classifier);
  self->prediction = hl_prediction_ref (prediction);
  self->crop = hl_texture_crop_image (prediction);
  job->classifier = g_object_ref (classifier);
  job->prediction = hl_prediction_ref (prediction);
  job->params = *params;
  job->params.target = target;
  hl_label_short (hl_classifier_get_label (classifier, target), name, sizeof name);
  title = g_strdup_printf ("IG from the baseline to the photo: “%s”", name);
  gtk_label_set_text (self->title_label, title);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title_label), hl_classifier_get_label (classifier, target));
  status = g_strdup_printf ("Computing %d steps (%s baseline)…", params->n_steps, params->baseline);
  gtk_label_set_text (self->status_label, status);
  job->cancellable = g_object_ref (self->cancellable);
  job->cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (job_cancelled_cb), job, NULL);
  task = g_task_new (NULL, self->cancellable, job_done_cb, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
  return self;
}

const hl_ig_path *
hl_ig_path_view_get_path (HlIgPathView *self)
{
  return self->ready && !self->error ? &self->path : NULL;
}

const char *
hl_ig_path_view_get_error (HlIgPathView *self)
{
  return self->error;
}

void
hl_ig_path_view_set_step (HlIgPathView *self,
                          int           step)
{
  if (!self->ready || self->error)
    return;
  step = CLAMP (step, 0, self->path.n_steps - 1);
  if (step == self->step && gtk_picture_get_paintable (self->pictures[0]))
    return;
  self->step = step;
  if ((int) lround (gtk_adjustment_get_value (self->step_adjustment)) != step)
    gtk_adjustment_set_value (self->step_adjustment, step);
  show_step (self);
}

int
hl_ig_path_view_get_step (HlIgPathView *self)
{
  return self->step;
}

/* ------------------------------------------------------------ GObject */

static void
hl_ig_path_view_dispose (GObject *object)
{
  HlIgPathView *self = HL_IG_PATH_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  G_OBJECT_CLASS (hl_ig_path_view_parent_class)->dispose (object);
}

static void
hl_ig_path_view_finalize (GObject *object)
{
  HlIgPathView *self = HL_IG_PATH_VIEW (object);

  g_clear_object (&self->cancellable);
  hl_ig_path_clear (&self->path);
  hl_image_free (self->crop);
  g_free (self->error);
  G_OBJECT_CLASS (hl_ig_path_view_parent_class)->finalize (object);
}

static void
hl_ig_path_view_class_init (HlIgPathViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = hl_ig_path_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = hl_ig_path_view_finalize;
  signals[SIGNAL_READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/heatlens/Heatlens/ui/heatlens-ig-path-view.ui");
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, title_label);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, status_label);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, pictures_box);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, curve_area);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, step_scale);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, step_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, step_label);
  gtk_widget_class_bind_template_child (widget_class, HlIgPathView, sum_label);
}

static void
hl_ig_path_view_init (HlIgPathView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->step = -1;
  for (int i = 0; i < N_PICTURES; i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      GtkWidget *picture = gtk_picture_new ();
      GtkWidget *caption = gtk_label_new (picture_captions[i]);

      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_widget_set_vexpand (picture, TRUE);
      gtk_widget_set_size_request (picture, 160, 160);
      gtk_label_set_ellipsize (GTK_LABEL (caption), PANGO_ELLIPSIZE_END);
      gtk_widget_set_tooltip_text (caption, picture_tips[i]);
      gtk_widget_add_css_class (caption, "caption");
      gtk_box_append (GTK_BOX (box), picture);
      gtk_box_append (GTK_BOX (box), caption);
      gtk_box_append (self->pictures_box, box);
      self->pictures[i] = GTK_PICTURE (picture);
    }
  gtk_drawing_area_set_draw_func (self->curve_area, draw_curve, self, NULL);
  g_signal_connect (self->step_adjustment, "value-changed", G_CALLBACK (step_changed_cb), self);
}
