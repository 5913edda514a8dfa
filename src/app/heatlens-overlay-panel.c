#include "heatlens-overlay-panel.h"

#include <math.h>

struct _HlOverlayPanel
{
  GtkWidget       parent_instance;

  GtkWidget      *box;
  GtkDropDown    *mode_dropdown;
  GtkDropDown    *sign_dropdown;
  GtkSpinButton  *outlier_spin;
  GtkDropDown    *cmap_dropdown;
  GtkScale       *opacity_scale;
  GtkDrawingArea *colorbar;

  hl_viz_options  opts;
  double          threshold;
  gboolean        is_zero;
  gboolean        updating;
};

G_DEFINE_FINAL_TYPE (HlOverlayPanel, hl_overlay_panel, GTK_TYPE_WIDGET)

enum { SIG_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* "blended_heat_map" -> "Blended heat map" */
static char *
pretty (const char *name)
{
  char *s = g_strdup (name);

  for (char *c = s; *c; c++)
    if (*c == '_')
      *c = ' ';
  s[0] = g_ascii_toupper (s[0]);
  return s;
}

static GtkStringList *
names_model (const char *(*name_of) (int), int n)
{
  GtkStringList *list = gtk_string_list_new (NULL);

  for (int i = 0; i < n; i++)
    {
      g_autofree char *p = pretty (name_of (i));

      gtk_string_list_append (list, p);
    }
  return list;
}

static const char *mode_name (int i) { return hl_viz_mode_name ((hl_viz_mode) i); }
static const char *sign_name (int i) { return hl_viz_sign_name ((hl_viz_sign) i); }
static const char *cmap_name (int i) { return hl_colormap_name ((hl_colormap_id) i); }

/* One label centred on x, kept inside [0, width]. */
static void
draw_label (cairo_t     *cr,
            PangoLayout *layout,
            const char  *text,
            double       x,
            double       y,
            int          width)
{
  int tw, th;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  x = CLAMP (x - tw / 2.0, 0, MAX (0, width - tw));
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* The colour bar's height follows the font (presentation mode enlarges it):
 * the bar and two lines of text. */
static gboolean
fit_colorbar (gpointer data)
{
  HlOverlayPanel *self = data;
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self->colorbar), "0");
  int th;

  pango_layout_get_pixel_size (layout, NULL, &th);
  if (gtk_drawing_area_get_content_height (self->colorbar) != 14 + 3 + 2 * th + 2)
    gtk_drawing_area_set_content_height (self->colorbar, 14 + 3 + 2 * th + 2);
  return G_SOURCE_REMOVE;
}

/* The font changed since the height was set (styles reach the bar after
 * the panel's css_changed): fit it after this frame. */
static void
refit_colorbar_later (HlOverlayPanel *self,
                      int             th)
{
  if (gtk_drawing_area_get_content_height (self->colorbar) != 14 + 3 + 2 * th + 2)
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, fit_colorbar, g_object_ref (self), g_object_unref);
}

/* The colour bar in the window: viz's colormap and ticks, but text in the
 * theme's colour and font (readable on a dark theme and a projector):
 * normalised ticks, and the raw attribution values they stand for below. */
static void
draw_colorbar (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        data)
{
  HlOverlayPanel *self = data;
  hl_colormap_id cmap = hl_colormap_resolve (self->opts.cmap, self->opts.sign);
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), NULL);
  double vmin, vmax, bar_h = 14, x0 = 1, w = width - 2;
  int th;
  GdkRGBA fg;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  {
    /* the rows' names in a left column: the normalised ticks, the raw
     * attribution values they stand for */
    int nw, rw, nh;

    pango_layout_set_text (layout, "raw", -1);
    pango_layout_get_pixel_size (layout, &rw, NULL);
    pango_layout_set_text (layout, "norm.", -1);
    pango_layout_get_pixel_size (layout, &nw, &nh);
    cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.55);
    cairo_move_to (cr, 0, bar_h + 3);
    pango_cairo_show_layout (cr, layout);
    if (self->threshold != 0 && !self->is_zero)
      {
        pango_layout_set_text (layout, "raw", -1);
        cairo_move_to (cr, 0, bar_h + 3 + nh);
        pango_cairo_show_layout (cr, layout);
      }
    cairo_translate (cr, MAX (nw, rw) + 8, 0);
    width -= MAX (nw, rw) + 8;
    w = width - 2;
  }
  if (width < 8)
    return;
  for (int i = 0; i < 256; i++)
    {
      guint8 rgb[3];

      hl_colormap_lookup (cmap, (i + 0.5) / 256.0, rgb);
      cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
      cairo_rectangle (cr, x0 + w * i / 256.0, 0, w / 256.0 + 0.5, bar_h);
      cairo_fill (cr);
    }
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0 + 0.5, 0.5, w - 1, bar_h - 1);
  cairo_stroke (cr);

  pango_layout_set_text (layout, "0", -1);
  pango_layout_get_pixel_size (layout, NULL, &th);
  refit_colorbar_later (self, th);
  hl_viz_sign_range (self->opts.sign, &vmin, &vmax);
  for (int i = 0; i <= 4; i++)
    {
      double tx = x0 + w * i / 4.0;

      cairo_move_to (cr, floor (tx) + 0.5, bar_h);
      cairo_line_to (cr, floor (tx) + 0.5, bar_h + 3);
      cairo_stroke (cr);
    }
  for (int line = 0; line < 2; line++)
    {
      char text[5][48];
      int step = 1;

      if (line == 1 && (self->threshold == 0 || self->is_zero))
        break;
      for (int i = 0; i <= 4; i++)
        {
          double tick = vmin + (vmax - vmin) * i / 4.0;

          if (line == 0)
            g_snprintf (text[i], sizeof text[i], "%g", tick);
          else
            /* (+ 0.0: the 0 tick of a negative scale is 0, not -0) */
            g_snprintf (text[i], sizeof text[i], "%.3g", self->threshold * tick + 0.0);
        }
      /* a narrow bar: every other label, so they do not run together
       * (placed as draw_label does: centred, kept inside the bar) */
      for (int i = 0; i < 4; i++)
        {
          int wa, wb;
          double ra, lb;

          pango_layout_set_text (layout, text[i], -1);
          pango_layout_get_pixel_size (layout, &wa, NULL);
          pango_layout_set_text (layout, text[i + 1], -1);
          pango_layout_get_pixel_size (layout, &wb, NULL);
          ra = CLAMP (x0 + w * i / 4.0 - wa / 2.0, 0, MAX (0, width - wa)) + wa;
          lb = CLAMP (x0 + w * (i + 1) / 4.0 - wb / 2.0, 0, MAX (0, width - wb));
          if (ra + 8 > lb)
            step = 2;
        }
      cairo_save (cr);
      if (line == 1)
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      for (int i = 0; i <= 4; i += step)
        draw_label (cr, layout, text[i], x0 + w * i / 4.0, bar_h + 3 + line * th, width);
      cairo_restore (cr);
    }
  if (self->is_zero)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
      draw_label (cr, layout, "attribution is zero everywhere", width / 2.0, bar_h + 3 + th, width);
    }
}

static void
read_widgets (HlOverlayPanel *self)
{
  if (self->updating)
    return;
  self->opts.mode = (hl_viz_mode) gtk_drop_down_get_selected (self->mode_dropdown);
  self->opts.sign = (hl_viz_sign) gtk_drop_down_get_selected (self->sign_dropdown);
  self->opts.outlier_perc = gtk_spin_button_get_value (self->outlier_spin);
  self->opts.cmap = (hl_colormap_id) gtk_drop_down_get_selected (self->cmap_dropdown);
  self->opts.alpha_overlay = gtk_range_get_value (GTK_RANGE (self->opacity_scale));
  gtk_widget_queue_draw (GTK_WIDGET (self->colorbar));
  g_signal_emit (self, signals[SIG_CHANGED], 0);
}

static void
dropdown_cb (GtkDropDown    *dd,
             GParamSpec     *pspec,
             HlOverlayPanel *self)
{
  read_widgets (self);
}

static void
value_cb (GtkWidget      *w,
          HlOverlayPanel *self)
{
  read_widgets (self);
}

static void
write_widgets (HlOverlayPanel *self)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->mode_dropdown, self->opts.mode);
  gtk_drop_down_set_selected (self->sign_dropdown, self->opts.sign);
  gtk_spin_button_set_value (self->outlier_spin, self->opts.outlier_perc);
  gtk_drop_down_set_selected (self->cmap_dropdown, self->opts.cmap);
  gtk_range_set_value (GTK_RANGE (self->opacity_scale), self->opts.alpha_overlay);
  self->updating = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self->colorbar));
}

GtkWidget *
hl_overlay_panel_new (void)
{
  return g_object_new (HL_TYPE_OVERLAY_PANEL, NULL);
}

const hl_viz_options *
hl_overlay_panel_get_options (HlOverlayPanel *self)
{
  return &self->opts;
}

void
hl_overlay_panel_set_options (HlOverlayPanel       *self,
                              const hl_viz_options *options)
{
  self->opts = *options;
  write_widgets (self);
  g_signal_emit (self, signals[SIG_CHANGED], 0);
}

void
hl_overlay_panel_set_scale (HlOverlayPanel *self,
                            double          threshold,
                            gboolean        is_zero)
{
  self->threshold = threshold;
  self->is_zero = is_zero;
  gtk_widget_queue_draw (GTK_WIDGET (self->colorbar));
}

static void
hl_overlay_panel_dispose (GObject *object)
{
  HlOverlayPanel *self = HL_OVERLAY_PANEL (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (hl_overlay_panel_parent_class)->dispose (object);
}

static void
hl_overlay_panel_css_changed (GtkWidget         *widget,
                              GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (hl_overlay_panel_parent_class)->css_changed (widget, change);
  fit_colorbar (widget);
}

static void
hl_overlay_panel_class_init (HlOverlayPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_overlay_panel_dispose;
  widget_class->css_changed = hl_overlay_panel_css_changed;
  signals[SIG_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heatlens/Heatlens/ui/heatlens-overlay-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, box);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, mode_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, sign_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, outlier_spin);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, cmap_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, opacity_scale);
  gtk_widget_class_bind_template_child (widget_class, HlOverlayPanel, colorbar);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hl_overlay_panel_init (HlOverlayPanel *self)
{
  g_autoptr(GtkStringList) modes = names_model (mode_name, HL_VIZ_N_MODES);
  g_autoptr(GtkStringList) signs = names_model (sign_name, HL_SIGN_N);
  g_autoptr(GtkStringList) cmaps = names_model (cmap_name, HL_CMAP_N);

  gtk_widget_init_template (GTK_WIDGET (self));
  hl_viz_options_init (&self->opts);
  gtk_drop_down_set_model (self->mode_dropdown, G_LIST_MODEL (modes));
  gtk_drop_down_set_model (self->sign_dropdown, G_LIST_MODEL (signs));
  gtk_drop_down_set_model (self->cmap_dropdown, G_LIST_MODEL (cmaps));
  write_widgets (self);
  g_signal_connect (self->mode_dropdown, "notify::selected", G_CALLBACK (dropdown_cb), self);
  g_signal_connect (self->sign_dropdown, "notify::selected", G_CALLBACK (dropdown_cb), self);
  g_signal_connect (self->cmap_dropdown, "notify::selected", G_CALLBACK (dropdown_cb), self);
  g_signal_connect (self->outlier_spin, "value-changed", G_CALLBACK (value_cb), self);
  g_signal_connect (self->opacity_scale, "value-changed", G_CALLBACK (value_cb), self);
  gtk_drawing_area_set_draw_func (self->colorbar, draw_colorbar, self, NULL);
  fit_colorbar (self);
}
