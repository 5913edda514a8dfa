#include "heatlens-compare-grid.h"
#include "heatlens-colorbar.h"
#include "heatlens-compare-layout.h"
#include "heatlens-param-panel.h"
#include "label_names.h"

#include <math.h>

/* cards are drawn at three times their smallest width, so they stay sharp
 * when the pane (a projector) gives them more room */
#define RENDER_SIZE (3 * HL_COMPARE_MIN_CARD)

struct _HlCompareGrid
{
  GtkWidget       parent_instance;

  GtkWidget      *box;
  GtkWidget      *legend;    /* the shared colour bars */
  GtkWidget      *scroller;
  GtkWidget      *cards;     /* laid out by HlCompareLayout */
  GtkWidget      *empty_label;
  HlPhoto        *photo;
  hl_crop_map     map;
  gboolean        has_map;
  GPtrArray      *pins;      /* HlResult */
  hl_viz_options  opts;
  gboolean        user_sign; /* the sign / colormap are the user's choice, */
  gboolean        user_cmap; /* else each card's method's */
  gboolean        shared_bars;
};

G_DEFINE_FINAL_TYPE (HlCompareGrid, hl_compare_grid, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_N_PINS, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void rebuild (HlCompareGrid *self);

/* A card's options: the overlay's, with its method's sign and colormap
 * (hl_viz_method_defaults, as the Explain page shows that method) unless
 * the user chose them. */
static hl_viz_options
card_options (HlCompareGrid *self,
              HlResult      *result)
{
  hl_viz_options o = self->opts;
  hl_viz_sign sign;
  hl_colormap_id cmap;

  if (result == NULL)
    return o;
  hl_viz_method_defaults (result->method, o.mode, &sign, &cmap);
  if (!self->user_sign)
    o.sign = sign;
  if (!self->user_cmap)
    o.cmap = cmap;
  return o;
}

/* The photo scaled to fit RENDER_SIZE, with the result's overlay when
 * given; threshold and is_zero: the map's scale (for its colour bar). */
static GdkTexture *
render_card (HlCompareGrid *self,
             HlResult      *result,
             char         **problem,
             double        *threshold,
             gboolean      *is_zero)
{
  const hl_image *img = hl_photo_get_image (self->photo);
  double s = MIN (1.0, (double) RENDER_SIZE / MAX (img->width, img->height));
  int w = MAX (1, (int) lround (img->width * s));
  int h = MAX (1, (int) lround (img->height * s));
  gsize stride = (gsize) w * 3;
  g_autofree guint8 *rgb = g_malloc (stride * (gsize) h);
  g_autoptr(GBytes) bytes = NULL;
  hl_viz_options o = card_options (self, result);
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
  if (st == HL_OK && result)
    {
      *threshold = hl_viz_norm_threshold (norm);
      *is_zero = hl_viz_norm_is_zero (norm);
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

/* A caption line: wrapped on two lines at most, then "…", the whole text
 * in its tooltip; it never widens the card (the layout sets the width). */
static GtkWidget *
caption_label (const char *text,
               const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (label), 2);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 1);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_tooltip_text (label, text);
  gtk_widget_add_css_class (label, css_class);
  if (g_strcmp0 (css_class, "caption") == 0)
    gtk_widget_add_css_class (label, "dim-label");
  return label;
}

static GtkWidget *
make_card (HlCompareGrid *self,
           HlResult      *result)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *title, *picture;
  g_autofree char *problem = NULL;
  double threshold = 0;
  gboolean is_zero = FALSE;
  g_autoptr(GdkTexture) tex = render_card (self, result, &problem, &threshold, &is_zero);
  g_autofree char *sub = NULL;
  g_autofree char *params = NULL;

  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "compare-card");
  gtk_widget_set_name (card, result ? "compare-card" : "compare-card-original");
  picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (tex));
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_vexpand (picture, TRUE);

  if (result)
    {
      const hl_method_desc *md = hl_method_find (result->method);
      char label[256];

      gboolean one_target = TRUE;

      hl_label_short (result->target_label, label, sizeof label);
      title = caption_label (md ? md->title : result->method, "heading");
      for (guint i = 0; i < self->pins->len; i++)
        one_target &= ((HlResult *) self->pins->pdata[i])->attr.target == result->attr.target;
      if (problem)
        sub = g_strdup (problem);
      else if (one_target && self->pins->len > 1)
        /* every card explains this class (the toolbar names it): a line less */
        sub = g_strdup_printf ("%.1f%% · %.2f s", 100.0 * result->attr.target_prob, result->attr.seconds);
      else
        sub = g_strdup_printf ("%s · %.1f%% · %.2f s", label,
                               100.0 * result->attr.target_prob, result->attr.seconds);
      params = hl_param_panel_describe (result->method, &result->params);
    }
  else
    {
      title = caption_label ("Original", "heading");
      sub = g_strdup (hl_photo_get_name (self->photo));
    }
  gtk_box_append (GTK_BOX (top), title);
  gtk_box_append (GTK_BOX (card), top);
  if (result)
    {
      /* Unpin: over the picture's corner, so the title has the card's width */
      GtkWidget *overlay = gtk_overlay_new ();
      GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");

      gtk_widget_add_css_class (close, "osd");
      gtk_widget_add_css_class (close, "circular");
      gtk_widget_set_halign (close, GTK_ALIGN_END);
      gtk_widget_set_valign (close, GTK_ALIGN_START);
      gtk_widget_set_tooltip_text (close, "Unpin");
      g_object_set_data (G_OBJECT (close), "hl-result", result);
      g_signal_connect (close, "clicked", G_CALLBACK (unpin_clicked_cb), self);
      gtk_overlay_set_child (GTK_OVERLAY (overlay), picture);
      gtk_overlay_add_overlay (GTK_OVERLAY (overlay), close);
      gtk_widget_set_vexpand (overlay, TRUE);
      gtk_box_append (GTK_BOX (card), overlay);
    }
  else
    gtk_box_append (GTK_BOX (card), picture);
  {
    GtkWidget *line = caption_label (sub, "caption");

    /* the target's full label (all its synonyms) on hover */
    if (result && !problem)
      {
        g_autofree char *tip = g_strdup_printf ("%s · %.1f%% · %.2f s", result->target_label,
                                                100.0 * result->attr.target_prob, result->attr.seconds);

        gtk_widget_set_tooltip_text (line, tip);
      }
    gtk_widget_set_name (line, "compare-card-caption");
    gtk_box_append (GTK_BOX (card), line);
  }
  /* the parameters on hover; as a line when another pin has the same
   * method (two pins of one method differ in them: say which) */
  if (params && *params)
    {
      gboolean twin = FALSE;

      for (guint i = 0; i < self->pins->len; i++)
        twin |= self->pins->pdata[i] != result &&
                g_strcmp0 (((HlResult *) self->pins->pdata[i])->method, result->method) == 0;
      if (twin)
        gtk_box_append (GTK_BOX (card), caption_label (params, "caption"));
      else
        {
          g_autofree char *tip = g_strdup_printf ("%s\n%s", gtk_label_get_text (GTK_LABEL (title)), params);

          gtk_widget_set_tooltip_text (title, tip);
        }
    }
  /* its own colour bar, unless the grid shows one per sign for all */
  if (result && !self->shared_bars)
    {
      hl_viz_options o = card_options (self, result);
      GtkWidget *bar = hl_colorbar_new ();

      hl_colorbar_set_scale (HL_COLORBAR (bar), o.sign, o.cmap, problem ? 0 : threshold, is_zero);
      gtk_widget_set_name (bar, "compare-card-colorbar");
      gtk_box_append (GTK_BOX (card), bar);
    }
  return card;
}

static void
string_free (gpointer s)
{
  g_string_free (s, TRUE);
}

static const char *
sign_title (hl_viz_sign sign)
{
  switch (sign)
    {
    case HL_SIGN_ALL: return "Signed";
    case HL_SIGN_POSITIVE: return "Positive";
    case HL_SIGN_NEGATIVE: return "Negative";
    default: return "Absolute";
    }
}

/* One colour bar per sign (and colormap) the cards use, naming its
 * cards: every card of a sign is normalised to the same scale (-1..1 or
 * 0..1 of its own largest value after the outlier clip), so one bar
 * reads them all. */
static void
rebuild_legend (HlCompareGrid *self)
{
  GtkWidget *child;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (string_free);

  while ((child = gtk_widget_get_first_child (self->legend)))
    gtk_flow_box_remove (GTK_FLOW_BOX (self->legend), child);
  gtk_widget_set_visible (self->legend, self->shared_bars && self->pins->len > 0);
  if (!self->shared_bars)
    return;
  for (guint i = 0; i < self->pins->len; i++)
    {
      HlResult *r = self->pins->pdata[i];
      hl_viz_options o = card_options (self, r);
      const hl_method_desc *md = hl_method_find (r->method);
      int key = (int) o.sign * 1000 + (int) hl_colormap_resolve (o.cmap, o.sign);
      guint k;

      for (k = 0; k < keys->len && g_array_index (keys, int, k) != key; k++)
        ;
      if (k == keys->len)
        {
          g_array_append_val (keys, key);
          g_ptr_array_add (names, g_string_new (NULL));
        }
      g_string_append_printf (names->pdata[k], "%s%s", ((GString *) names->pdata[k])->len ? ", " : "",
                              md ? md->title : r->method);
    }
  for (guint k = 0; k < keys->len; k++)
    {
      int key = g_array_index (keys, int, k);
      hl_viz_sign sign = (hl_viz_sign) (key / 1000);
      GtkWidget *group = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *bar = hl_colorbar_new ();
      GtkWidget *name = gtk_label_new (sign_title (sign));
      g_autofree char *tip = g_strdup_printf ("%s, each normalised to its own largest value: %s",
                                              sign_title (sign), ((GString *) names->pdata[k])->str);

      gtk_widget_set_hexpand (group, TRUE);
      gtk_widget_set_tooltip_text (group, tip);
      gtk_widget_add_css_class (name, "heading");
      gtk_widget_set_valign (name, GTK_ALIGN_START);
      gtk_box_append (GTK_BOX (group), name);
      /* normalised only: each card has its own raw scale */
      hl_colorbar_set_scale (HL_COLORBAR (bar), sign, (hl_colormap_id) (key % 1000), 0, FALSE);
      hl_colorbar_set_reserve_raw (HL_COLORBAR (bar), FALSE);
      gtk_widget_set_name (bar, "compare-shared-colorbar");
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_box_append (GTK_BOX (group), bar);
      gtk_flow_box_append (GTK_FLOW_BOX (self->legend), group);
    }
}

static void
rebuild (HlCompareGrid *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->cards)))
    gtk_box_remove (GTK_BOX (self->cards), child);
  gtk_widget_set_visible (self->empty_label, self->photo == NULL || self->pins->len == 0);
  rebuild_legend (self);
  if (self->photo == NULL)
    return;
  {
    const hl_image *img = hl_photo_get_image (self->photo);

    hl_compare_layout_set_aspect (HL_COMPARE_LAYOUT (gtk_widget_get_layout_manager (self->cards)),
                                  (double) img->height / MAX (1, img->width));
  }
  gtk_box_append (GTK_BOX (self->cards), make_card (self, NULL));
  for (guint i = 0; i < self->pins->len; i++)
    gtk_box_append (GTK_BOX (self->cards), make_card (self, self->pins->pdata[i]));
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
  self->shared_bars = FALSE;
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

void
hl_compare_grid_set_user_choice (HlCompareGrid *self,
                                 gboolean       sign,
                                 gboolean       cmap)
{
  if (self->user_sign == sign && self->user_cmap == cmap)
    return;
  self->user_sign = sign;
  self->user_cmap = cmap;
  if (self->pins->len)
    rebuild (self);
}

void
hl_compare_grid_set_shared_colorbars (HlCompareGrid *self,
                                      gboolean       shared)
{
  if (self->shared_bars == shared)
    return;
  self->shared_bars = shared;
  rebuild (self);
}

gboolean
hl_compare_grid_get_shared_colorbars (HlCompareGrid *self)
{
  return self->shared_bars;
}

int
hl_compare_grid_get_columns (HlCompareGrid *self)
{
  return hl_compare_layout_get_columns (HL_COMPARE_LAYOUT (gtk_widget_get_layout_manager (self->cards)));
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

  g_clear_pointer (&self->box, gtk_widget_unparent);
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
  GtkWidget *inner = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  self->pins = g_ptr_array_new_with_free_func ((GDestroyNotify) hl_result_unref);
  hl_viz_options_init (&self->opts);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  /* a flow box: a narrow pane puts the bars on more lines */
  self->legend = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->legend), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->legend), 18);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->legend), 4);
  gtk_widget_set_can_focus (self->legend, FALSE);
  gtk_widget_set_name (self->legend, "compare-legend");
  gtk_widget_set_margin_start (self->legend, 18);
  gtk_widget_set_margin_end (self->legend, 18);
  gtk_widget_set_margin_top (self->legend, 8);
  gtk_widget_set_visible (self->legend, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->legend);
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (self->scroller, TRUE);
  gtk_box_append (GTK_BOX (self->box), self->scroller);
  gtk_widget_set_margin_start (inner, 18);
  gtk_widget_set_margin_end (inner, 18);
  gtk_widget_set_margin_top (inner, 12);
  gtk_widget_set_margin_bottom (inner, 12);
  /* a box whose layout is HlCompareLayout: cards that fill the pane */
  self->cards = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_name (self->cards, "compare-cards");
  gtk_widget_set_layout_manager (self->cards, hl_compare_layout_new ());
  gtk_widget_set_vexpand (self->cards, TRUE);
  self->empty_label = gtk_label_new ("Pin results (Ctrl+D) to compare methods side by side.");
  gtk_widget_add_css_class (self->empty_label, "dim-label");
  gtk_box_append (GTK_BOX (inner), self->cards);
  gtk_box_append (GTK_BOX (inner), self->empty_label);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), inner);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}
