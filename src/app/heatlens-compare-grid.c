#include "heatlens-compare-grid.h"
#include "heatlens-param-panel.h"

#include <math.h>

#define CARD_SIZE 220
/* cards are drawn at twice their smallest size, so they stay sharp when
 * a wide window (a projector) gives them more room */
#define RENDER_SIZE (2 * CARD_SIZE)

struct _HlCompareGrid
{
  GtkWidget       parent_instance;

  GtkWidget      *scroller;
  GtkFlowBox     *flow;
  GtkWidget      *empty_label;
  HlPhoto        *photo;
  hl_crop_map     map;
  gboolean        has_map;
  GPtrArray      *pins;      /* HlResult */
  hl_viz_options  opts;
};

G_DEFINE_FINAL_TYPE (HlCompareGrid, hl_compare_grid, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_N_PINS, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void rebuild (HlCompareGrid *self);

/* The photo scaled to fit CARD_SIZE, with the result's overlay when given. */
static GdkTexture *
render_card (HlCompareGrid *self,
             HlResult      *result,
             char         **problem)
{
  const hl_image *img = hl_photo_get_image (self->photo);
  double s = MIN (1.0, (double) RENDER_SIZE / MAX (img->width, img->height));
  int w = MAX (1, (int) lround (img->width * s));
  int h = MAX (1, (int) lround (img->height * s));
  gsize stride = (gsize) w * 3;
  g_autofree guint8 *rgb = g_malloc (stride * (gsize) h);
  g_autoptr(GBytes) bytes = NULL;
  hl_viz_options o = self->opts;
  hl_viz_norm *norm = NULL;
  hl_error err = { 0 };
  hl_status st;

  if (result == NULL)
    o.mode = HL_VIZ_ORIGINAL_IMAGE;
  if (result && result->attr.attr)
    st = hl_viz_normalize (result->attr.attr, o.sign, o.outlier_perc, &norm, &err);
  else
    {
      /* original_image ignores the values: a zero map of the crop size */
      hl_shape shape = { 4, { 1, 1, self->has_map ? self->map.input_height : img->height,
                              self->has_map ? self->map.input_width : img->width } };
      hl_array *zero = hl_array_new (&shape);

      st = zero ? hl_viz_normalize (zero, o.sign, o.outlier_perc, &norm, &err) : HL_ERR_NOMEM;
      hl_array_free (zero);
    }
  if (st == HL_OK)
    st = hl_viz_check (norm, &o, &err);
  if (st == HL_OK)
    st = hl_viz_render_rgb (norm, img, self->has_map ? &self->map : NULL, &o,
                            w, h, rgb, (int) stride, &err);
  hl_viz_norm_free (norm);
  if (st != HL_OK)
    {
      *problem = g_strdup (err.msg);
      return g_object_ref (hl_photo_get_texture (self->photo));
    }
  bytes = g_bytes_new_take (g_steal_pointer (&rgb), stride * (gsize) h);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, stride);
}

static void
unpin_clicked_cb (GtkButton     *button,
                  HlCompareGrid *self)
{
  HlResult *r = g_object_get_data (G_OBJECT (button), "hl-result");
  guint index;

  if (g_ptr_array_find (self->pins, r, &index))
    hl_compare_grid_unpin (self, index);
}

static GtkWidget *
make_card (HlCompareGrid *self,
           HlResult      *result)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *title, *subtitle, *picture;
  g_autofree char *problem = NULL;
  g_autoptr(GdkTexture) tex = render_card (self, result, &problem);
  g_autofree char *sub = NULL;
  g_autofree char *params = NULL;

  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "compare-card");
  {
    /* the high-resolution texture in a paintable of the card's size, so
     * the flow box lays cards out by CARD_SIZE */
    int tw = gdk_texture_get_width (tex), th = gdk_texture_get_height (tex);
    double k = (double) CARD_SIZE / MAX (tw, th);
    graphene_size_t size = GRAPHENE_SIZE_INIT ((float) (tw * k), (float) (th * k));
    GtkSnapshot *snapshot = gtk_snapshot_new ();
    g_autoptr(GdkPaintable) paintable = NULL;

    gtk_snapshot_append_texture (snapshot, tex,
                                 &GRAPHENE_RECT_INIT (0, 0, size.width, size.height));
    paintable = gtk_snapshot_free_to_paintable (snapshot, &size);
    picture = gtk_picture_new_for_paintable (paintable);
  }
  gtk_widget_set_size_request (picture, CARD_SIZE, CARD_SIZE * 3 / 4);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);

  if (result)
    {
      const hl_method_desc *md = hl_method_find (result->method);

      title = gtk_label_new (md ? md->title : result->method);
      if (problem)
        sub = g_strdup (problem);
      else
        sub = g_strdup_printf ("%s · %.1f%% · %.2f s", result->target_label,
                               100.0 * result->attr.target_prob, result->attr.seconds);
      /* two pins of one method differ in their parameters: say which */
      params = hl_param_panel_describe (result->method, &result->params);
    }
  else
    {
      title = gtk_label_new ("Original");
      sub = g_strdup (hl_photo_get_name (self->photo));
    }
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  /* labels must not widen the cards: the picture sets their width */
  gtk_label_set_max_width_chars (GTK_LABEL (title), 1);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (top), title);
  if (result)
    {
      GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");

      gtk_widget_add_css_class (close, "flat");
      gtk_widget_add_css_class (close, "circular");
      gtk_widget_set_tooltip_text (close, "Unpin");
      g_object_set_data (G_OBJECT (close), "hl-result", result);
      g_signal_connect (close, "clicked", G_CALLBACK (unpin_clicked_cb), self);
      gtk_box_append (GTK_BOX (top), close);
    }
  subtitle = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (subtitle, sub);
  gtk_label_set_max_width_chars (GTK_LABEL (subtitle), 1);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");

  gtk_box_append (GTK_BOX (card), top);
  gtk_box_append (GTK_BOX (card), picture);
  gtk_box_append (GTK_BOX (card), subtitle);
  if (params && *params)
    {
      GtkWidget *line = gtk_label_new (params);

      gtk_label_set_xalign (GTK_LABEL (line), 0);
      gtk_label_set_ellipsize (GTK_LABEL (line), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (line), 1);
      gtk_widget_set_tooltip_text (line, params);
      gtk_widget_add_css_class (line, "dim-label");
      gtk_widget_add_css_class (line, "caption");
      gtk_box_append (GTK_BOX (card), line);
    }
  return card;
}

static void
rebuild (HlCompareGrid *self)
{

  {
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->flow))))
      gtk_flow_box_remove (self->flow, child);
  }
  gtk_widget_set_visible (self->empty_label, self->photo == NULL || self->pins->len == 0);
  if (self->photo == NULL)
    return;
  gtk_flow_box_append (self->flow, make_card (self, NULL));
  for (guint i = 0; i < self->pins->len; i++)
    gtk_flow_box_append (self->flow, make_card (self, self->pins->pdata[i]));
}

GtkWidget *
hl_compare_grid_new (void)
{
  return g_object_new (HL_TYPE_COMPARE_GRID, NULL);
}

void
hl_compare_grid_set_photo (HlCompareGrid     *self,
                           HlPhoto           *photo,
                           const hl_crop_map *map)
{
  gboolean same = photo == self->photo;

  g_set_object (&self->photo, photo);
  self->has_map = map != NULL;
  if (map)
    self->map = *map;
  if (!same && self->pins->len)
    {
      g_ptr_array_set_size (self->pins, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PINS]);
    }
  rebuild (self);
}

gboolean
hl_compare_grid_pin (HlCompareGrid *self,
                     HlResult      *result)
{
  for (guint i = 0; i < self->pins->len; i++)
    if (g_strcmp0 (((HlResult *) self->pins->pdata[i])->key, result->key) == 0)
      return FALSE;
  g_ptr_array_add (self->pins, hl_result_ref (result));
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PINS]);
  return TRUE;
}

void
hl_compare_grid_unpin (HlCompareGrid *self,
                       guint          index)
{
  if (index >= self->pins->len)
    return;
  g_ptr_array_remove_index (self->pins, index);
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PINS]);
}

void
hl_compare_grid_clear (HlCompareGrid *self)
{
  g_ptr_array_set_size (self->pins, 0);
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PINS]);
}

void
hl_compare_grid_set_options (HlCompareGrid        *self,
                             const hl_viz_options *options)
{
  self->opts = *options;
  if (self->pins->len)
    rebuild (self);
}

guint
hl_compare_grid_get_n_pins (HlCompareGrid *self)
{
  return self->pins->len;
}

HlResult *
hl_compare_grid_get_pin (HlCompareGrid *self,
                         guint          index)
{
  return index < self->pins->len ? self->pins->pdata[index] : NULL;
}

static void
hl_compare_grid_dispose (GObject *object)
{
  HlCompareGrid *self = HL_COMPARE_GRID (object);

  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  g_clear_object (&self->photo);
  g_clear_pointer (&self->pins, g_ptr_array_unref);
  G_OBJECT_CLASS (hl_compare_grid_parent_class)->dispose (object);
}

static void
hl_compare_grid_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_N_PINS:
      g_value_set_uint (value, hl_compare_grid_get_n_pins (HL_COMPARE_GRID (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_compare_grid_class_init (HlCompareGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hl_compare_grid_dispose;
  object_class->get_property = hl_compare_grid_get_property;
  properties[PROP_N_PINS] =
    g_param_spec_uint ("n-pins", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
hl_compare_grid_init (HlCompareGrid *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  self->pins = g_ptr_array_new_with_free_func ((GDestroyNotify) hl_result_unref);
  hl_viz_options_init (&self->opts);
  self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  self->flow = GTK_FLOW_BOX (gtk_flow_box_new ());
  gtk_flow_box_set_selection_mode (self->flow, GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (self->flow, TRUE);
  gtk_flow_box_set_column_spacing (self->flow, 12);
  gtk_flow_box_set_row_spacing (self->flow, 12);
  gtk_flow_box_set_max_children_per_line (self->flow, 6);
  gtk_widget_set_valign (GTK_WIDGET (self->flow), GTK_ALIGN_START);
  self->empty_label = gtk_label_new ("Pin results (Ctrl+D) to compare methods side by side.");
  gtk_widget_add_css_class (self->empty_label, "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->flow));
  gtk_box_append (GTK_BOX (box), self->empty_label);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), box);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}
