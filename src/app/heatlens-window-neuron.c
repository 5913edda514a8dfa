/* Picking the neuron of a neuron method by clicking the photo.
 *
 * A click maps through the prediction's crop map to a model-input pixel,
 * then to the cell of the layer's H x W grid over the input (the grid an
 * upsampled layer map is drawn on). The channel is the one with the
 * largest activation at that cell (HlParamPanel's check box, on by
 * default) or stays as typed. The marker shows the neuron's cell whatever
 * set it: a click, the text field or the channel spin button. */
#include "heatlens-window-private.h"

#include <math.h>

/* The layer of a neuron method with a [1,C,H,W] output, or FALSE. */
static gboolean
neuron_grid (HlWindow *self,
             hl_shape *shape)
{
  const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self->param_panel));
  const hl_attr_params *p = hl_param_panel_get_params (self->param_panel);
  const hl_model *m;
  int value;

  if (md == NULL || !md->needs_neuron || self->classifier == NULL || p->layer[0] == '\0')
    return FALSE;
  m = hl_classifier_get_model (self->classifier);
  value = hl_model_find_value (m, p->layer);
  return value >= 0 && hl_model_value_shape (m, value, shape) == HL_OK &&
         shape->ndim == 4 && shape->dims[2] >= 1 && shape->dims[3] >= 1;
}

void
hl_window_update_neuron (HlWindow *self)
{
  const hl_crop_map *map = hl_image_view_get_crop_map (self->image_view);
  const hl_attr_params *p = hl_param_panel_get_params (self->param_panel);
  hl_shape shape;
  gboolean grid = neuron_grid (self, &shape);

  hl_image_view_set_picking (self->image_view, grid && map != NULL);
  if (grid && map && p->has_neuron &&
      p->neuron[1] < shape.dims[2] && p->neuron[2] < shape.dims[3])
    {
      /* the cell's footprint on the model input, then on the photo */
      double cw = (double) map->input_width / shape.dims[3];
      double ch = (double) map->input_height / shape.dims[2];
      graphene_rect_t r = GRAPHENE_RECT_INIT ((float) (map->x0 + p->neuron[2] * cw * map->sx),
                                              (float) (map->y0 + p->neuron[1] * ch * map->sy),
                                              (float) (cw * map->sx), (float) (ch * map->sy));

      hl_image_view_set_marker (self->image_view, &r);
    }
  else
    hl_image_view_set_marker (self->image_view, NULL);
}

static void
set_neuron (HlWindow *self,
            int       c,
            int       h,
            int       w)
{
  g_autofree char *text = g_strdup_printf ("%d,%d,%d", c, h, w);
  g_autoptr(GError) error = NULL;

  if (!hl_param_panel_set_param (self->param_panel, "neuron", text, &error))
    hl_window_show_error (self, error->message);
}

typedef struct
{
  GWeakRef  window;
  int       h, w;
  gboolean  then_run;   /* the default neuron, resolved before a run */
} PickData;

static void
probe_done_cb (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  PickData *pick = user_data;
  g_autoptr(HlWindow) self = g_weak_ref_get (&pick->window);
  g_autoptr(GError) error = NULL;
  int channel = 0;
  float activation = 0;
  gboolean ok = hl_worker_probe_finish (HL_WORKER (source), res, &channel, &activation, &error);

  if (self && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (!ok)
        {
          /* keep channel 0: the neuron is no longer "to be resolved" */
          hl_window_show_error (self, error->message);
          channel = hl_param_panel_get_params (self->param_panel)->neuron[0];
        }
      set_neuron (self, channel, pick->h, pick->w);
      if (pick->then_run)
        hl_window_run (self);
    }
  g_weak_ref_clear (&pick->window);
  g_free (pick);
}

/* The layer cell under a photo point; FALSE outside the model's crop. */
static gboolean
cell_at (const hl_crop_map *map,
         const hl_shape    *shape,
         double             photo_x,
         double             photo_y,
         int               *h,
         int               *w)
{
  double u = (photo_x - map->x0) / map->sx;
  double v = (photo_y - map->y0) / map->sy;

  if (u < 0 || v < 0 || u >= map->input_width || v >= map->input_height)
    return FALSE;
  *w = MIN ((int) floor (u * shape->dims[3] / map->input_width), (int) shape->dims[3] - 1);
  *h = MIN ((int) floor (v * shape->dims[2] / map->input_height), (int) shape->dims[2] - 1);
  return TRUE;
}

char *
hl_window_neuron_hint (HlWindow *self)
{
  const hl_crop_map *map = hl_image_view_get_crop_map (self->image_view);
  hl_shape shape;
  double px, py;
  int h, w;

  if (map == NULL || !hl_image_view_get_picking (self->image_view) ||
      !neuron_grid (self, &shape) ||
      !hl_image_view_get_hover_point (self->image_view, &px, &py) ||
      !cell_at (map, &shape, px, py, &h, &w))
    return NULL;
  return g_strdup_printf ("click to pick the neuron at H,W = %d,%d", h, w);
}

void
hl_window_pick_neuron (HlWindow *self,
                       double    photo_x,
                       double    photo_y)
{
  const hl_crop_map *map = hl_image_view_get_crop_map (self->image_view);
  const hl_attr_params *p = hl_param_panel_get_params (self->param_panel);
  hl_shape shape;
  int h, w;

  if (map == NULL || !neuron_grid (self, &shape))
    return;
  if (!cell_at (map, &shape, photo_x, photo_y, &h, &w))
    {
      hl_window_show_error (self, "That point is outside the part of the photo the model sees "
                                  "(the undimmed area); click inside it to pick a neuron");
      return;
    }

  /* a new neuron means a new run: the one computing now would only hold
   * the probe back (jobs take turns on the engine) */
  g_cancellable_cancel (self->probe_cancellable);
  g_clear_object (&self->probe_cancellable);
  hl_worker_cancel (self->worker);
  if (hl_param_panel_get_pick_strongest (self->param_panel) && self->prediction)
    {
      PickData *pick = g_new0 (PickData, 1);
      /* the marker moves at once; the channel follows from the probe */
      graphene_rect_t r;

      self->probe_cancellable = g_cancellable_new ();
      g_weak_ref_init (&pick->window, self);
      pick->h = h;
      pick->w = w;
      if (hl_image_view_get_marker (self->image_view, &r))
        {
          double cw = (double) map->input_width / shape.dims[3];
          double ch = (double) map->input_height / shape.dims[2];

          r.origin.x = (float) (map->x0 + w * cw * map->sx);
          r.origin.y = (float) (map->y0 + h * ch * map->sy);
          hl_image_view_set_marker (self->image_view, &r);
        }
      hl_worker_probe_async (self->worker, self->classifier, self->prediction, p->layer, h, w,
                             self->probe_cancellable, probe_done_cb, pick);
    }
  else
    set_neuron (self, p->has_neuron ? p->neuron[0] : 0, h, w);
}

gboolean
hl_window_resolve_default_neuron (HlWindow *self)
{
  const hl_attr_params *p = hl_param_panel_get_params (self->param_panel);
  PickData *pick;
  hl_shape shape;

  if (!hl_param_panel_get_neuron_is_default (self->param_panel) ||
      !hl_param_panel_get_pick_strongest (self->param_panel) ||
      self->prediction == NULL || !neuron_grid (self, &shape) ||
      p->neuron[1] >= shape.dims[2] || p->neuron[2] >= shape.dims[3])
    return FALSE;
  /* a new neuron means a new run: the one computing now would only hold
   * the probe back (jobs take turns on the engine) */
  g_cancellable_cancel (self->probe_cancellable);
  g_clear_object (&self->probe_cancellable);
  hl_worker_cancel (self->worker);
  self->probe_cancellable = g_cancellable_new ();
  pick = g_new0 (PickData, 1);
  g_weak_ref_init (&pick->window, self);
  pick->h = p->neuron[1];
  pick->w = p->neuron[2];
  pick->then_run = TRUE;
  hl_worker_probe_async (self->worker, self->classifier, self->prediction, p->layer,
                         pick->h, pick->w, self->probe_cancellable, probe_done_cb, pick);
  return TRUE;
}

static void
picked_cb (HlImageView *view,
           double       photo_x,
           double       photo_y,
           HlWindow    *self)
{
  hl_window_pick_neuron (self, photo_x, photo_y);
}

void
hl_window_init_neuron (HlWindow *self)
{
  g_signal_connect (self->image_view, "picked", G_CALLBACK (picked_cb), self);
}
