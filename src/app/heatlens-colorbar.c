/* The window's colour bar (see heatlens-colorbar.h). */
#include "heatlens-colorbar.h"

#include <math.h>

#define BAR_H 14
#define TICK_H 3
#define N_TICKS 5

struct _HlColorbar
{
  GtkWidget       parent_instance;

  hl_viz_sign     sign;
  hl_colormap_id  cmap;
  double          threshold;
  gboolean        is_zero;
  gboolean        reserve_raw;
  char            ticks[2][N_TICKS][32];
};

G_DEFINE_FINAL_TYPE (HlColorbar, hl_colorbar, GTK_TYPE_WIDGET)

static gboolean
has_raw_row (HlColorbar *self)
{
  return self->threshold != 0 && !self->is_zero;
}

/* The tick texts: "%g" of the normalised value, "%.3g" of the raw one.
 * (+ 0.0: a negative threshold, as the negative sign has, times the 0
 * tick is -0, printed "-0"; the sum makes it 0.) */
static void
format_ticks (HlColorbar *self)
{
  double vmin, vmax;

  hl_viz_sign_range (self->sign, &vmin, &vmax);
  for (int i = 0; i < N_TICKS; i++)
    {
      double tick = vmin + (vmax - vmin) * i / (N_TICKS - 1);

      g_snprintf (self->ticks[0][i], sizeof self->ticks[0][i], "%g", tick + 0.0);
      g_snprintf (self->ticks[1][i], sizeof self->ticks[1][i], "%.3g", self->threshold * tick + 0.0);
    }
}

static int
text_height (GtkWidget *widget)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, "0");
  int th;

  pango_layout_get_pixel_size (layout, NULL, &th);
  return th;
}

static int
row_names_width (GtkWidget *widget)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, "norm.");
  int nw, rw;

  pango_layout_get_pixel_size (layout, &nw, NULL);
  pango_layout_set_text (layout, "raw", -1);
  pango_layout_get_pixel_size (layout, &rw, NULL);
  return MAX (nw, rw) + 8;
}

/* Height: the bar, its ticks and two rows of text (the second row stays
 * reserved without a raw row, so the layout does not jump between maps). */
static void
hl_colorbar_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_VERTICAL)
    *minimum = *natural = BAR_H + TICK_H + (HL_COLORBAR (widget)->reserve_raw ? 2 : 1) * text_height (widget) + 2;
  else
    {
      *minimum = row_names_width (widget) + 90;
      *natural = row_names_width (widget) + 120;
    }
}

/* One label centred on x, kept inside [0, width]. */
static void
draw_label (cairo_t     *cr,
            PangoLayout *layout,
            const char  *text,
            double       x,
            double       y,
            double       width)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  x = CLAMP (x - tw / 2.0, 0, MAX (0, width - tw));
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* 1 when the labels of a row fit at every tick, 2 when every other one
 * must go (a narrow bar). */
static int
label_step (PangoLayout *layout,
            char         texts[N_TICKS][32],
            double       x0,
            double       w,
            double       width)
{
  for (int i = 0; i + 1 < N_TICKS; i++)
    {
      int wa, wb;
      double ra, lb;

      pango_layout_set_text (layout, texts[i], -1);
      pango_layout_get_pixel_size (layout, &wa, NULL);
      pango_layout_set_text (layout, texts[i + 1], -1);
      pango_layout_get_pixel_size (layout, &wb, NULL);
      ra = CLAMP (x0 + w * i / (N_TICKS - 1) - wa / 2.0, 0, MAX (0, width - wa)) + wa;
      lb = CLAMP (x0 + w * (i + 1) / (N_TICKS - 1) - wb / 2.0, 0, MAX (0, width - wb));
      if (ra + 8 > lb)
        return 2;
    }
  return 1;
}

static void
draw (HlColorbar *self,
      cairo_t    *cr,
      double      width)
{
  GtkWidget *widget = GTK_WIDGET (self);
  hl_colormap_id cmap = hl_colormap_resolve (self->cmap, self->sign);
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, NULL);
  int th = text_height (widget), names = row_names_width (widget);
  double x0 = 1, w;
  GdkRGBA fg;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  /* the rows' names in a left column */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.55);
  pango_layout_set_text (layout, "norm.", -1);
  cairo_move_to (cr, 0, BAR_H + TICK_H);
  pango_cairo_show_layout (cr, layout);
  if (has_raw_row (self))
    {
      pango_layout_set_text (layout, "raw", -1);
      cairo_move_to (cr, 0, BAR_H + TICK_H + th);
      pango_cairo_show_layout (cr, layout);
    }
  cairo_translate (cr, names, 0);
  width -= names;
  w = width - 2;
  if (width < 8)
    return;
  for (int i = 0; i < 256; i++)
    {
      guint8 rgb[3];

      hl_colormap_lookup (cmap, (i + 0.5) / 256.0, rgb);
      cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
      cairo_rectangle (cr, x0 + w * i / 256.0, 0, w / 256.0 + 0.5, BAR_H);
      cairo_fill (cr);
    }
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0 + 0.5, 0.5, w - 1, BAR_H - 1);
  cairo_stroke (cr);
  for (int i = 0; i < N_TICKS; i++)
    {
      double tx = floor (x0 + w * i / (N_TICKS - 1)) + 0.5;

      cairo_move_to (cr, tx, BAR_H);
      cairo_line_to (cr, tx, BAR_H + TICK_H);
      cairo_stroke (cr);
    }
  for (int row = 0; row < 2; row++)
    {
      int step;

      if (row == 1 && !has_raw_row (self))
        break;
      step = label_step (layout, self->ticks[row], x0, w, width);
      cairo_save (cr);
      if (row == 1)
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      for (int i = 0; i < N_TICKS; i += step)
        draw_label (cr, layout, self->ticks[row][i], x0 + w * i / (N_TICKS - 1),
                    BAR_H + TICK_H + row * th, width);
      cairo_restore (cr);
    }
  if (self->is_zero)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
      draw_label (cr, layout, "attribution is zero everywhere", width / 2.0, BAR_H + TICK_H + th, width);
    }
}

static void
hl_colorbar_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (width <= 0 || height <= 0)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw (HL_COLORBAR (widget), cr, width);
  cairo_destroy (cr);
}

GtkWidget *
hl_colorbar_new (void)
{
  return g_object_new (HL_TYPE_COLORBAR, NULL);
}

void
hl_colorbar_set_scale (HlColorbar     *self,
                       hl_viz_sign     sign,
                       hl_colormap_id  cmap,
                       double          threshold,
                       gboolean        is_zero)
{
  self->sign = sign;
  self->cmap = cmap;
  self->threshold = threshold;
  self->is_zero = is_zero;
  format_ticks (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hl_colorbar_set_reserve_raw (HlColorbar *self,
                             gboolean    reserve)
{
  if (self->reserve_raw == reserve)
    return;
  self->reserve_raw = reserve;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
hl_colorbar_get_tick (HlColorbar *self,
                      int         row,
                      int         i)
{
  if (row < 0 || row > 1 || i < 0 || i >= N_TICKS || (row == 1 && !has_raw_row (self)))
    return NULL;
  return self->ticks[row][i];
}

static void
hl_colorbar_class_init (HlColorbarClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->measure = hl_colorbar_measure;
  widget_class->snapshot = hl_colorbar_snapshot;
  gtk_widget_class_set_css_name (widget_class, "colorbar");
}

static void
hl_colorbar_init (HlColorbar *self)
{
  self->sign = HL_SIGN_ABSOLUTE_VALUE;
  self->cmap = HL_CMAP_DEFAULT;
  self->reserve_raw = TRUE;
  format_ticks (self);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self),
                               "Colour bar: \"norm.\" the normalised values the colours stand for "
                               "(1 = the map's largest value after the outlier clip), "
                               "\"raw\" the attribution values they are");
}
