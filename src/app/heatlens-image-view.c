#include "heatlens-image-view.h"

#include <math.h>

#define MAX_RENDER_SIDE 2048
#define MIN_RENDER_SIDE 512
#define MIN_ZOOM 0.25
#define MAX_ZOOM 32.0

struct _HlImageView
{
  GtkWidget       parent_instance;

  HlPhoto        *photo;
  hl_crop_map     map;
  gboolean        has_map;
  HlResult       *result;
  hl_viz_options  opts;
  hl_viz_norm    *norm;
  GdkTexture     *overlay;      /* viz render of the whole photo */
  char           *problem;

  double          zoom;         /* 1 = fit */
  double          pan_x, pan_y; /* widget pixels */
  double          drag_pan_x, drag_pan_y;
  char           *hover_text;
  double          pointer_x, pointer_y;
  gboolean        has_pointer;
  double          press_x, press_y;  /* a click, not a drag, picks */
  double          hover_px, hover_py; /* photo point under the pointer */

  gboolean        picking;      /* clicks pick a point (neuron methods) */
  gboolean        has_marker;
  graphene_rect_t marker;       /* in photo pixels */
};

G_DEFINE_FINAL_TYPE (HlImageView, hl_image_view, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_HOVER_TEXT, PROP_ZOOM, PROP_PROBLEM, PROP_PHOTO, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIG_PICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------ geometry */

/* Scale (widget px per photo px) and the photo's top-left in the widget. */
static gboolean
get_placement (HlImageView *self,
               double      *scale,
               double      *ox,
               double      *oy)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  const hl_image *img;
  double fit;

  if (self->photo == NULL || w <= 0 || h <= 0)
    return FALSE;
  img = hl_photo_get_image (self->photo);
  fit = MIN ((w - 16.0) / img->width, (h - 16.0) / img->height);
  if (fit <= 0)
    fit = MIN ((double) w / img->width, (double) h / img->height);
  *scale = fit * self->zoom;
  *ox = (w - img->width * *scale) / 2 + self->pan_x;
  *oy = (h - img->height * *scale) / 2 + self->pan_y;
  return TRUE;
}

static void
set_hover_text (HlImageView *self,
                char        *text)
{
  if (g_strcmp0 (text, self->hover_text) == 0)
    {
      g_free (text);
      return;
    }
  g_free (self->hover_text);
  self->hover_text = text;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOVER_TEXT]);
}

static void
set_problem (HlImageView *self,
             const char  *problem)
{
  if (g_strcmp0 (problem, self->problem) == 0)
    return;
  g_free (self->problem);
  self->problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

/* ------------------------------------------------------------ rendering */

static void
rerender (HlImageView *self)
{
  const hl_image *img;
  hl_error err = { 0 };
  int w, h;
  double s;
  gsize stride;
  g_autofree guint8 *rgb = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_clear_object (&self->overlay);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->photo == NULL || self->norm == NULL)
    return;
  if (hl_viz_check (self->norm, &self->opts, &err) != HL_OK)
    {
      set_problem (self, err.msg);
      return;
    }
  img = hl_photo_get_image (self->photo);
  s = MIN (1.0, (double) MAX_RENDER_SIDE / MAX (img->width, img->height));
  /* a tiny photo (an icon, a 28x28 digit) would carry the map in a few
   * pixels: draw it larger */
  if (MAX (img->width, img->height) * s < MIN_RENDER_SIDE)
    s = (double) MIN_RENDER_SIDE / MAX (img->width, img->height);
  w = MAX (1, (int) lround (img->width * s));
  h = MAX (1, (int) lround (img->height * s));
  stride = (gsize) w * 3;
  rgb = g_malloc (stride * (gsize) h);
  if (hl_viz_render_rgb (self->norm, img, self->has_map ? &self->map : NULL,
                         &self->opts, w, h, rgb, (int) stride, &err) != HL_OK)
    {
      set_problem (self, err.msg);
      return;
    }
  set_problem (self, NULL);
  bytes = g_bytes_new_take (g_steal_pointer (&rgb), stride * (gsize) h);
  self->overlay = gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, stride);
}

static void
renormalize (HlImageView *self)
{
  hl_error err = { 0 };

  g_clear_pointer (&self->norm, hl_viz_norm_free);
  set_problem (self, NULL);
  if (self->result && self->result->attr.attr &&
      hl_viz_normalize (self->result->attr.attr, self->opts.sign,
                        self->opts.outlier_perc, &self->norm, &err) != HL_OK)
    set_problem (self, err.msg);
  rerender (self);
  /* the value under a still pointer belongs to the new map */
  if (self->has_pointer && self->hover_text)
    set_hover_text (self, hl_image_view_describe_pixel (self, self->hover_px, self->hover_py));
}

/* The picked cell: a white box in a dark outline (visible on any photo
 * and heat map), at least 12 px so a 1-pixel cell can still be seen, with
 * ticks reaching out to find it on a large photo. */
static void
snapshot_marker (HlImageView *self,
                 GtkSnapshot *snapshot,
                 double       scale,
                 double       ox,
                 double       oy)
{
  const GdkRGBA dark = { 0, 0, 0, 0.75f }, light = { 1, 1, 1, 1 };
  double cx = ox + (self->marker.origin.x + self->marker.size.width / 2) * scale;
  double cy = oy + (self->marker.origin.y + self->marker.size.height / 2) * scale;
  double w = MAX (12, self->marker.size.width * scale);
  double h = MAX (12, self->marker.size.height * scale);
  double tick = 10;

  for (int pass = 0; pass < 2; pass++)
    {
      const GdkRGBA *c = pass == 0 ? &dark : &light;
      float lw = pass == 0 ? 4.0f : 2.0f;
      GskRoundedRect box;
      float widths[4] = { lw, lw, lw, lw };
      GdkRGBA colors[4] = { *c, *c, *c, *c };
      double d = pass == 0 ? 1 : 0;   /* the dark pass is 1 px wider */

      gsk_rounded_rect_init_from_rect (&box,
                                       &GRAPHENE_RECT_INIT ((float) (cx - w / 2 - d), (float) (cy - h / 2 - d),
                                                            (float) (w + 2 * d), (float) (h + 2 * d)), 0);
      gtk_snapshot_append_border (snapshot, &box, widths, colors);
      /* ticks left, right, above, below */
      gtk_snapshot_append_color (snapshot, c, &GRAPHENE_RECT_INIT ((float) (cx - w / 2 - tick - d), (float) (cy - lw / 2), (float) (tick + d), lw));
      gtk_snapshot_append_color (snapshot, c, &GRAPHENE_RECT_INIT ((float) (cx + w / 2), (float) (cy - lw / 2), (float) (tick + d), lw));
      gtk_snapshot_append_color (snapshot, c, &GRAPHENE_RECT_INIT ((float) (cx - lw / 2), (float) (cy - h / 2 - tick - d), lw, (float) (tick + d)));
      gtk_snapshot_append_color (snapshot, c, &GRAPHENE_RECT_INIT ((float) (cx - lw / 2), (float) (cy + h / 2), lw, (float) (tick + d)));
    }
}

/* The dimmed frame around the model's crop says what it is, in its
 * widest band on screen: top or bottom (text across), left or right
 * (text up the band); FALSE when no band is tall enough for a line. */
gboolean
hl_image_view_get_outside_label (HlImageView     *self,
                                 graphene_rect_t *band,
                                 gboolean        *vertical)
{
  double scale, ox, oy, cx0, cy0, cx1, cy1, bx1, by1, best = 0;
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  g_autoptr(PangoLayout) layout = NULL;
  const hl_image *img;
  int tw, th;

  if (!self->has_map || !get_placement (self, &scale, &ox, &oy))
    return FALSE;
  img = hl_photo_get_image (self->photo);
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), HL_IMAGE_VIEW_OUTSIDE_LABEL);
  pango_layout_get_pixel_size (layout, &tw, &th);
  /* the bands as seen: clipped to the widget */
  cx0 = MAX (0, ox + self->map.x0 * scale);
  cy0 = MAX (0, oy + self->map.y0 * scale);
  cx1 = MIN (w, ox + (self->map.x0 + self->map.input_width * self->map.sx) * scale);
  cy1 = MIN (h, oy + (self->map.y0 + self->map.input_height * self->map.sy) * scale);
  ox = MAX (0, ox);
  oy = MAX (0, oy);
  bx1 = MIN (w, ox + img->width * scale);
  by1 = MIN (h, oy + img->height * scale);
  {
    const graphene_rect_t bands[4] = {
      GRAPHENE_RECT_INIT ((float) ox, (float) oy, (float) (bx1 - ox), (float) (cy0 - oy)),
      GRAPHENE_RECT_INIT ((float) ox, (float) cy1, (float) (bx1 - ox), (float) (by1 - cy1)),
      GRAPHENE_RECT_INIT ((float) ox, (float) cy0, (float) (cx0 - ox), (float) (cy1 - cy0)),
      GRAPHENE_RECT_INIT ((float) cx1, (float) cy0, (float) (bx1 - cx1), (float) (cy1 - cy0)),
    };

    for (int i = 0; i < 4; i++)
      {
        gboolean across = i < 2;
        double thick = across ? bands[i].size.height : bands[i].size.width;
        double length = across ? bands[i].size.width : bands[i].size.height;

        /* room for the line with 2 px to spare, and its whole length */
        if (thick >= th + 4 && length >= tw + 8 && thick > best)
          {
            best = thick;
            *band = bands[i];
            *vertical = !across;
          }
      }
  }
  return best > 0;
}

static void
snapshot_outside_label (HlImageView *self,
                        GtkSnapshot *snapshot)
{
  graphene_rect_t band;
  gboolean vertical;
  g_autoptr(PangoLayout) layout = NULL;
  GdkRGBA white = { 1, 1, 1, 0.8f };
  int tw, th;

  if (!hl_image_view_get_outside_label (self, &band, &vertical))
    return;
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), HL_IMAGE_VIEW_OUTSIDE_LABEL);
  pango_layout_get_pixel_size (layout, &tw, &th);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (band.origin.x + band.size.width / 2,
                                                          band.origin.y + band.size.height / 2));
  if (vertical)
    gtk_snapshot_rotate (snapshot, -90);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (-tw / 2.0f, -th / 2.0f));
  gtk_snapshot_append_layout (snapshot, layout, &white);
  gtk_snapshot_restore (snapshot);
}

static void
hl_image_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  HlImageView *self = HL_IMAGE_VIEW (widget);
  const hl_image *img;
  double scale, ox, oy;
  graphene_rect_t bounds;
  GdkTexture *tex;

  if (!get_placement (self, &scale, &ox, &oy))
    return;
  img = hl_photo_get_image (self->photo);
  bounds = GRAPHENE_RECT_INIT ((float) ox, (float) oy,
                               (float) (img->width * scale),
                               (float) (img->height * scale));
  tex = self->overlay ? self->overlay : hl_photo_get_texture (self->photo);

  gtk_snapshot_push_clip (snapshot,
                          &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                               gtk_widget_get_height (widget)));
  gtk_snapshot_append_texture (snapshot, tex, &bounds);

  /* Without an overlay, dim the photo outside the crop like viz does. */
  if (self->overlay == NULL && self->has_map)
    {
      double cx0 = ox + self->map.x0 * scale;
      double cy0 = oy + self->map.y0 * scale;
      double cx1 = cx0 + self->map.input_width * self->map.sx * scale;
      double cy1 = cy0 + self->map.input_height * self->map.sy * scale;
      GdkRGBA dim = { 0, 0, 0, (float) self->opts.outside_dim };
      double bx1 = ox + img->width * scale, by1 = oy + img->height * scale;

      if (cy0 > oy)
        gtk_snapshot_append_color (snapshot, &dim,
                                   &GRAPHENE_RECT_INIT (ox, oy, bx1 - ox, cy0 - oy));
      if (by1 > cy1)
        gtk_snapshot_append_color (snapshot, &dim,
                                   &GRAPHENE_RECT_INIT (ox, cy1, bx1 - ox, by1 - cy1));
      if (cx0 > ox)
        gtk_snapshot_append_color (snapshot, &dim,
                                   &GRAPHENE_RECT_INIT (ox, cy0, cx0 - ox, cy1 - cy0));
      if (bx1 > cx1)
        gtk_snapshot_append_color (snapshot, &dim,
                                   &GRAPHENE_RECT_INIT (cx1, cy0, bx1 - cx1, cy1 - cy0));
    }
  if (self->has_map)
    snapshot_outside_label (self, snapshot);
  if (self->has_marker)
    snapshot_marker (self, snapshot, scale, ox, oy);
  gtk_snapshot_pop (snapshot);
}

static GtkSizeRequestMode
hl_image_view_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
hl_image_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  *minimum = 160;
  *natural = 640;
}

/* ------------------------------------------------------------ hover */

char *
hl_image_view_describe_pixel (HlImageView *self,
                              double       px,
                              double       py)
{
  const hl_crop_map *m = &self->map;
  const hl_method_desc *md;
  int u, v, nw, nh;
  float raw, norm;

  if (self->photo == NULL)
    return NULL;
  if (!self->has_map || self->norm == NULL)
    return g_strdup_printf ("x %d, y %d", (int) floor (px), (int) floor (py));
  nw = hl_viz_norm_width (self->norm);
  nh = hl_viz_norm_height (self->norm);
  /* photo -> model-input pixel -> map cell (a layer map is coarser) */
  u = (int) floor ((px - m->x0) / m->sx);
  v = (int) floor ((py - m->y0) / m->sy);
  if (u < 0 || v < 0 || u >= m->input_width || v >= m->input_height)
    return g_strdup_printf ("x %d, y %d — outside the model's view",
                            (int) floor (px), (int) floor (py));
  u = u * nw / m->input_width;
  v = v * nh / m->input_height;
  raw = hl_viz_norm_raw (self->norm, u, v);
  norm = hl_viz_norm_value (self->norm, u, v);
  /* named after the map it reads, which may not be the panel's choice */
  md = self->result ? hl_method_find (self->result->method) : NULL;
  return g_strdup_printf ("x %d, y %d — %s attribution %.4g (normalised %+.2f)",
                          (int) floor (px), (int) floor (py), md ? md->title : "",
                          raw, norm);
}

static void
motion_cb (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           HlImageView              *self)
{
  double scale, ox, oy;
  const hl_image *img;
  double px, py;

  self->pointer_x = x;
  self->pointer_y = y;
  self->has_pointer = TRUE;
  if (!get_placement (self, &scale, &ox, &oy))
    return;
  img = hl_photo_get_image (self->photo);
  px = (x - ox) / scale;
  py = (y - oy) / scale;
  self->hover_px = px;
  self->hover_py = py;
  if (px < 0 || py < 0 || px >= img->width || py >= img->height)
    set_hover_text (self, NULL);
  else
    set_hover_text (self, hl_image_view_describe_pixel (self, px, py));
}

static void
leave_cb (GtkEventControllerMotion *motion,
          HlImageView              *self)
{
  self->has_pointer = FALSE;
  set_hover_text (self, NULL);
}

static gboolean
query_tooltip_cb (GtkWidget  *widget,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  gpointer    data)
{
  HlImageView *self = HL_IMAGE_VIEW (widget);

  if (self->hover_text == NULL || self->norm == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, self->hover_text);
  return TRUE;
}

/* ------------------------------------------------------------ zoom, pan */

static void
zoom_at (HlImageView *self,
         double       factor,
         double       wx,
         double       wy)
{
  double new_zoom = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);
  double scale, ox, oy, px, py, nscale, nox, noy;

  if (!get_placement (self, &scale, &ox, &oy))
    return;
  /* keep the photo point under (wx,wy) where it is */
  px = (wx - ox) / scale;
  py = (wy - oy) / scale;
  self->zoom = new_zoom;
  self->pan_x = self->pan_y = 0;
  get_placement (self, &nscale, &nox, &noy);
  self->pan_x = wx - (nox + px * nscale);
  self->pan_y = wy - (noy + py * nscale);
  if (self->zoom == 1.0)
    self->pan_x = self->pan_y = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hl_image_view_zoom (HlImageView *self,
                    double       factor)
{
  zoom_at (self, factor, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
           gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

void
hl_image_view_zoom_fit (HlImageView *self)
{
  self->zoom = 1.0;
  self->pan_x = self->pan_y = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hl_image_view_pan (HlImageView *self,
                   double       dx,
                   double       dy)
{
  self->pan_x += dx;
  self->pan_y += dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
hl_image_view_get_zoom (HlImageView *self)
{
  return self->zoom;
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll,
           double                    dx,
           double                    dy,
           HlImageView              *self)
{
  double x = self->has_pointer ? self->pointer_x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double y = self->has_pointer ? self->pointer_y : gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;

  zoom_at (self, pow (1.15, -dy), x, y);
  return GDK_EVENT_STOP;
}

static void
drag_begin_cb (GtkGestureDrag *drag,
               double          x,
               double          y,
               HlImageView    *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
drag_update_cb (GtkGestureDrag *drag,
                double          dx,
                double          dy,
                HlImageView    *self)
{
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
pressed_cb (GtkGestureClick *click,
            int              n_press,
            double           x,
            double           y,
            HlImageView     *self)
{
  self->press_x = x;
  self->press_y = y;
  if (n_press == 2 && !self->picking)
    hl_image_view_zoom_fit (self);
}

/* A release near the press is a click: in picking mode it picks the photo
 * point under it (a drag pans instead). */
static void
released_cb (GtkGestureClick *click,
             int              n_press,
             double           x,
             double           y,
             HlImageView     *self)
{
  double scale, ox, oy;
  const hl_image *img;
  double px, py;

  if (!self->picking || n_press != 1 ||
      fabs (x - self->press_x) > 4 || fabs (y - self->press_y) > 4 ||
      !get_placement (self, &scale, &ox, &oy))
    return;
  img = hl_photo_get_image (self->photo);
  px = (x - ox) / scale;
  py = (y - oy) / scale;
  if (px >= 0 && py >= 0 && px < img->width && py < img->height)
    g_signal_emit (self, signals[SIG_PICKED], 0, px, py);
}

static gboolean
key_cb (GtkEventControllerKey *key,
        guint                  keyval,
        guint                  keycode,
        GdkModifierType        state,
        HlImageView           *self)
{
  const double step = 48;

  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Left:  hl_image_view_pan (self, step, 0); return GDK_EVENT_STOP;
    case GDK_KEY_Right: hl_image_view_pan (self, -step, 0); return GDK_EVENT_STOP;
    case GDK_KEY_Up:    hl_image_view_pan (self, 0, step); return GDK_EVENT_STOP;
    case GDK_KEY_Down:  hl_image_view_pan (self, 0, -step); return GDK_EVENT_STOP;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add: hl_image_view_zoom (self, 1.25); return GDK_EVENT_STOP;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract: hl_image_view_zoom (self, 1 / 1.25); return GDK_EVENT_STOP;
    case GDK_KEY_0:
    case GDK_KEY_KP_0: hl_image_view_zoom_fit (self); return GDK_EVENT_STOP;
    default: return GDK_EVENT_PROPAGATE;
    }
}

/* ------------------------------------------------------------ API */

GtkWidget *
hl_image_view_new (void)
{
  return g_object_new (HL_TYPE_IMAGE_VIEW, NULL);
}

void
hl_image_view_set_photo (HlImageView *self,
                         HlPhoto     *photo)
{
  if (photo == self->photo)
    return;
  g_set_object (&self->photo, photo);
  self->has_map = FALSE;
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->norm, hl_viz_norm_free);
  set_problem (self, NULL);
  set_hover_text (self, NULL);
  hl_image_view_zoom_fit (self);
  rerender (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PHOTO]);
}

HlPhoto *
hl_image_view_get_photo (HlImageView *self)
{
  return self->photo;
}

void
hl_image_view_set_crop_map (HlImageView       *self,
                            const hl_crop_map *map)
{
  self->has_map = map != NULL;
  if (map)
    self->map = *map;
  rerender (self);
}

const hl_crop_map *
hl_image_view_get_crop_map (HlImageView *self)
{
  return self->has_map ? &self->map : NULL;
}

void
hl_image_view_set_result (HlImageView *self,
                          HlResult    *result)
{
  if (result == self->result)
    return;
  g_clear_pointer (&self->result, hl_result_unref);
  if (result)
    self->result = hl_result_ref (result);
  renormalize (self);
}

HlResult *
hl_image_view_get_result (HlImageView *self)
{
  return self->result;
}

GdkTexture *
hl_image_view_get_overlay (HlImageView *self)
{
  return self->overlay;
}

void
hl_image_view_set_options (HlImageView          *self,
                           const hl_viz_options *options)
{
  gboolean renorm = options->sign != self->opts.sign ||
                    options->outlier_perc != self->opts.outlier_perc;

  self->opts = *options;
  if (renorm)
    renormalize (self);
  else
    rerender (self);
}

const hl_viz_norm *
hl_image_view_get_norm (HlImageView *self)
{
  return self->norm;
}

const char *
hl_image_view_get_problem (HlImageView *self)
{
  return self->problem;
}

gboolean
hl_image_view_get_hover_point (HlImageView *self,
                               double      *photo_x,
                               double      *photo_y)
{
  if (self->hover_text == NULL)
    return FALSE;
  *photo_x = self->hover_px;
  *photo_y = self->hover_py;
  return TRUE;
}

void
hl_image_view_set_picking (HlImageView *self,
                           gboolean     picking)
{
  self->picking = picking;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), picking ? "crosshair" : NULL);
}

gboolean
hl_image_view_get_picking (HlImageView *self)
{
  return self->picking;
}

void
hl_image_view_set_marker (HlImageView           *self,
                          const graphene_rect_t *photo_rect)
{
  self->has_marker = photo_rect != NULL;
  if (photo_rect)
    self->marker = *photo_rect;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
hl_image_view_get_marker (HlImageView     *self,
                          graphene_rect_t *photo_rect)
{
  if (self->has_marker && photo_rect)
    *photo_rect = self->marker;
  return self->has_marker;
}

const char *
hl_image_view_get_hover_text (HlImageView *self)
{
  return self->hover_text;
}

/* ------------------------------------------------------------ GObject */

static void
hl_image_view_dispose (GObject *object)
{
  HlImageView *self = HL_IMAGE_VIEW (object);

  g_clear_object (&self->photo);
  g_clear_object (&self->overlay);
  g_clear_pointer (&self->result, hl_result_unref);
  g_clear_pointer (&self->norm, hl_viz_norm_free);
  g_clear_pointer (&self->problem, g_free);
  g_clear_pointer (&self->hover_text, g_free);
  G_OBJECT_CLASS (hl_image_view_parent_class)->dispose (object);
}

static void
hl_image_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  HlImageView *self = HL_IMAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_HOVER_TEXT: g_value_set_string (value, self->hover_text); break;
    case PROP_ZOOM: g_value_set_double (value, self->zoom); break;
    case PROP_PROBLEM: g_value_set_string (value, self->problem); break;
    case PROP_PHOTO: g_value_set_object (value, self->photo); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_image_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_PHOTO: hl_image_view_set_photo (HL_IMAGE_VIEW (object), g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_image_view_class_init (HlImageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_image_view_dispose;
  object_class->get_property = hl_image_view_get_property;
  object_class->set_property = hl_image_view_set_property;
  widget_class->snapshot = hl_image_view_snapshot;
  widget_class->measure = hl_image_view_measure;
  widget_class->get_request_mode = hl_image_view_get_request_mode;

  properties[PROP_HOVER_TEXT] =
    g_param_spec_string ("hover-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, MIN_ZOOM, MAX_ZOOM, 1.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PHOTO] =
    g_param_spec_object ("photo", NULL, NULL, HL_TYPE_PHOTO,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[SIG_PICKED] =
    g_signal_new ("picked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  gtk_widget_class_set_css_name (widget_class, "hlimageview");
}

static void
hl_image_view_init (HlImageView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->zoom = 1.0;
  hl_viz_options_init (&self->opts);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip_cb), NULL);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  g_signal_connect (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  g_signal_connect (gesture, "released", G_CALLBACK (released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}
