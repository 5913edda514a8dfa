#include "heatlens-overlay-panel.h"
#include "heatlens-colorbar.h"

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
  HlColorbar     *colorbar;

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

/* The bar shows the panel's sign and colormap and the shown map's scale. */
static void
update_colorbar (HlOverlayPanel *self)
{
  hl_colorbar_set_scale (self->colorbar, self->opts.sign, self->opts.cmap,
                         self->threshold, self->is_zero);
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
  update_colorbar (self);
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
  update_colorbar (self);
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
  update_colorbar (self);
}

void
hl_overlay_panel_set_colorbar_visible (HlOverlayPanel *self,
                                       gboolean        visible)
{
  gtk_widget_set_visible (GTK_WIDGET (self->colorbar), visible);
}

static void
hl_overlay_panel_dispose (GObject *object)
{
  HlOverlayPanel *self = HL_OVERLAY_PANEL (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (hl_overlay_panel_parent_class)->dispose (object);
}

static void
hl_overlay_panel_class_init (HlOverlayPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_overlay_panel_dispose;
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

  g_type_ensure (HL_TYPE_COLORBAR);
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
}
