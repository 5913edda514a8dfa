/* HlParamPanel: see heatlens-param-panel.h; the widgets are made in
 * heatlens-param-panel-widgets.c. */
#include "heatlens-param-panel-private.h"
#include "heatlens-search-anywhere.h"
#include "heatlens-error.h"

#include <string.h>

G_DEFINE_FINAL_TYPE (HlParamPanel, hl_param_panel, GTK_TYPE_WIDGET)

enum { SIG_CHANGED, SIG_INVALID, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_METHOD, PROP_CLASSIFIER, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void fill_model_defaults (HlParamPanel *self);

static gboolean
rebuild_idle (gpointer data)
{
  HlParamPanel *self = data;

  self->rebuild_source = 0;
  hl_param_panel_rebuild (self);
  return G_SOURCE_REMOVE;
}

/* From inside a widget's own signal: rebuild once the signal is over. */
void
hl_param_panel_queue_rebuild (HlParamPanel *self)
{
  if (self->rebuild_source == 0)
    self->rebuild_source = g_idle_add (rebuild_idle, self);
}


void
hl_param_panel_emit_invalid (HlParamPanel   *self,
                             const hl_error *err)
{
  g_autoptr(GError) error = NULL;

  hl_app_error_from_hl (&error, err);
  g_signal_emit (self, signals[SIG_INVALID], 0, error);
}

/* An immediate "changed" also stands for any edit still settling. */
void
hl_param_panel_emit_changed (HlParamPanel *self)
{
  if (self->building)
    return;
  g_clear_handle_id (&self->changed_source, g_source_remove);
  g_signal_emit (self, signals[SIG_CHANGED], 0);
}

static gboolean
changed_timeout (gpointer data)
{
  HlParamPanel *self = data;

  self->changed_source = 0;
  g_signal_emit (self, signals[SIG_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

/* Clicks on "+" and keystrokes in a number field: one "changed" once the
 * edits have settled for HL_PARAM_PANEL_SETTLE_MS, not one per edit. */
void
hl_param_panel_emit_changed_later (HlParamPanel *self)
{
  if (self->building)
    return;
  g_clear_handle_id (&self->changed_source, g_source_remove);
  self->changed_source = g_timeout_add (HL_PARAM_PANEL_SETTLE_MS, changed_timeout, self);
}

gboolean
hl_param_panel_get_settling (HlParamPanel *self)
{
  g_return_val_if_fail (HL_IS_PARAM_PANEL (self), FALSE);
  return self->changed_source != 0;
}

/* Every widget writes through the library's parser, so the GUI accepts
 * exactly what the CLI accepts; "changed" is left to the caller. */
gboolean
hl_param_panel_store_text (HlParamPanel        *self,
                           const hl_param_desc *d,
                           const char          *text)
{
  hl_error err = { 0 };

  if (self->building)
    return FALSE;
  if (hl_param_set (&self->params, d, text, &err) != HL_OK)
    {
      hl_param_panel_emit_invalid (self, &err);
      return FALSE;
    }
  if (g_strcmp0 (d->name, "neuron") == 0)
    self->neuron_is_default = FALSE;
  return TRUE;
}

gboolean
hl_param_panel_apply_text (HlParamPanel        *self,
                           const hl_param_desc *d,
                           const char          *text)
{
  if (!hl_param_panel_store_text (self, d, text))
    return FALSE;
  hl_param_panel_emit_changed (self);
  return TRUE;
}


/* The neuron follows the layer: the panel's own default, or a neuron the
 * new layer does not have, becomes the new layer's centre (channel 0,
 * which the window then replaces with the strongest one). */
void
hl_param_panel_neuron_follow_layer (HlParamPanel *self)
{
  const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self));
  double max[3];
  const int *n = self->params.neuron;

  if (md == NULL || !md->needs_neuron || !self->params.has_neuron)
    return;
  hl_param_panel_neuron_limits (self, max);
  if (self->neuron_is_default || n[0] > max[0] || n[1] > max[1] || n[2] > max[2])
    {
      self->params.has_neuron = 0;
      fill_model_defaults (self);
    }
}

/* Upper bounds of a neuron index from the chosen layer's shape. */
void
hl_param_panel_neuron_limits (HlParamPanel *self,
               double        max[3])
{
  const hl_model *m;
  int value;
  hl_shape shape;

  max[0] = max[1] = max[2] = 1e6;
  if (self->classifier == NULL || self->params.layer[0] == '\0')
    return;
  m = hl_classifier_get_model (self->classifier);
  value = hl_model_find_value (m, self->params.layer);
  if (value < 0 || hl_model_value_shape (m, value, &shape) != HL_OK)
    return;
  for (int i = 0; i < 3 && i + 1 < shape.ndim; i++)
    max[i] = (double) MAX (0, shape.dims[i + 1] - 1);
}

/* Layer and neuron defaults that need the model: the library's default
 * layer (hl_default_layer), as in the CLI and the report. */
static void
fill_model_defaults (HlParamPanel *self)
{
  const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self));
  const hl_param_desc *d;

  if (md == NULL)
    return;
  if (md->needs_layer && self->params.layer[0] == '\0' && self->default_layer >= 0 &&
      (d = hl_param_find ("layer")))
    {
      hl_param_set (&self->params, d, self->layer_names->pdata[self->default_layer], NULL);
      self->layer_is_default = TRUE;
    }
  if (md->needs_neuron && !self->params.has_neuron && (d = hl_param_find ("neuron")))
    {
      /* the centre of the layer's grid: a neuron looking at the middle */
      double max[3];
      char text[64];

      hl_param_panel_neuron_limits (self, max);
      if (max[1] >= 1e6 || max[2] >= 1e6)
        max[1] = max[2] = 0;
      g_snprintf (text, sizeof text, "0,%d,%d", (int) (max[1] / 2 + 0.5), (int) (max[2] / 2 + 0.5));
      hl_param_set (&self->params, d, text, NULL);
      self->neuron_is_default = TRUE;
    }
}

/* ------------------------------------------------------------ method list */

static const hl_method_desc *
item_method (GtkListItem *item)
{
  GtkStringObject *so = gtk_list_item_get_item (item);

  return so ? hl_method_find (gtk_string_object_get_string (so)) : NULL;
}

static void
method_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  with_description)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_box_append (GTK_BOX (box), title);
  if (with_description)
    {
      GtkWidget *desc = gtk_label_new (NULL);

      gtk_label_set_xalign (GTK_LABEL (desc), 0);
      gtk_label_set_wrap (GTK_LABEL (desc), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (desc), 44);
      gtk_widget_add_css_class (desc, "dim-label");
      gtk_widget_add_css_class (desc, "caption");
      gtk_box_append (GTK_BOX (box), desc);
    }
  gtk_list_item_set_child (item, box);
}

static void
method_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                gpointer                  with_description)
{
  const hl_method_desc *md = item_method (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *title = gtk_widget_get_first_child (box);
  GtkWidget *desc = gtk_widget_get_next_sibling (title);

  if (md == NULL)
    return;
  if (with_description)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>  <small>%s</small>",
                                                         md->title, hl_group_name (md->group));
      g_autofree char *text = g_strdup (md->description);

      gtk_label_set_markup (GTK_LABEL (title), markup);
      gtk_label_set_text (GTK_LABEL (desc), text);
    }
  else
    gtk_label_set_text (GTK_LABEL (title), md->title);
}

static GtkListItemFactory *
method_factory (gboolean with_description)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new ();

  g_signal_connect (f, "setup", G_CALLBACK (method_setup_cb), GINT_TO_POINTER (with_description));
  g_signal_connect (f, "bind", G_CALLBACK (method_bind_cb), GINT_TO_POINTER (with_description));
  return f;
}

static char *
method_search_text (GtkStringObject *so)
{
  const hl_method_desc *md = hl_method_find (gtk_string_object_get_string (so));

  return md ? g_strdup_printf ("%s %s %s", md->title, md->name, hl_group_name (md->group))
            : g_strdup ("");
}

/* The parameters the user left at the old method's defaults take the new
 * one's (the library's hl_attr_params_switch_method). */
static void
follow_method_defaults (HlParamPanel *self)
{
  const char *method = hl_param_panel_get_method (self);
  if (method && g_strcmp0 (method, self->params_method) != 0)
    {
      hl_attr_params_switch_method (&self->params, self->params_method, method);
      g_free (self->params_method);
      self->params_method = g_strdup (method);
    }
}

static void
method_selected_cb (GtkDropDown  *dd,
                    GParamSpec   *pspec,
                    HlParamPanel *self)
{
  follow_method_defaults (self);
  fill_model_defaults (self);
  hl_param_panel_rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METHOD]);
  hl_param_panel_emit_changed (self);
}

static void
reset_clicked_cb (HlParamPanel *self)
{
  hl_param_panel_reset (self);
}

/* ------------------------------------------------------------ API */

GtkWidget *
hl_param_panel_new (void)
{
  return g_object_new (HL_TYPE_PARAM_PANEL, NULL);
}

/* A layer the user named (--param layer=NAME, given before the model has
 * loaded, or chosen on another model) stays when the new model has it, and
 * so does a neuron chosen in it when the layer's grid holds it; the
 * panel's own defaults are made again for the new model. */
static void
keep_user_choices (HlParamPanel *self)
{
  const hl_model *m = hl_classifier_get_model (self->classifier);
  gboolean keep_layer = self->params.layer[0] != '\0' && !self->layer_is_default;

  if (keep_layer && hl_model_find_value (m, self->params.layer) < 0)
    {
      hl_error err = { 0 };

      hl_error_set (&err, HL_ERR_ARG, "layer '%s' is not in %s: using the default layer",
                    self->params.layer, hl_classifier_get_name (self->classifier));
      keep_layer = FALSE;
      hl_param_panel_emit_invalid (self, &err);
    }
  if (!keep_layer)
    {
      self->params.layer[0] = '\0';
      self->params.has_neuron = 0;
    }
  else
    hl_param_panel_neuron_follow_layer (self);
}

void
hl_param_panel_set_classifier (HlParamPanel *self,
                               HlClassifier *classifier)
{
  const hl_model *m;
  int n;

  if (!g_set_object (&self->classifier, classifier))
    return;
  g_clear_pointer (&self->layer_names, g_ptr_array_unref);
  g_clear_object (&self->layer_labels);
  self->default_layer = -1;
  if (classifier == NULL)
    return;
  m = hl_classifier_get_model (classifier);
  n = hl_model_num_nodes (m);
  self->layer_names = g_ptr_array_new_with_free_func (g_free);
  self->layer_labels = gtk_string_list_new (NULL);
  for (int i = 0; i < n; i++)
    {
      hl_node_info info;
      char shape[128];
      g_autofree char *label = NULL;

      hl_model_node_info (m, i, &info);
      hl_shape_format (&info.shape, shape, sizeof shape);
      label = g_strdup_printf ("%s  %s %s", info.name, info.op, shape);
      g_ptr_array_add (self->layer_names, g_strdup (info.name));
      gtk_string_list_append (self->layer_labels, label);
    }
  /* the library's default layer, the one the CLI and the report use */
  {
    char name[256];

    if (hl_default_layer (m, name, sizeof name, NULL) == HL_OK)
      for (guint i = 0; i < self->layer_names->len; i++)
        if (g_strcmp0 (self->layer_names->pdata[i], name) == 0)
          self->default_layer = (int) i;
  }
  keep_user_choices (self);
  fill_model_defaults (self);
  hl_param_panel_rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLASSIFIER]);
}

const char *
hl_param_panel_get_method (HlParamPanel *self)
{
  GtkStringObject *so = gtk_drop_down_get_selected_item (self->method_dropdown);

  return so ? gtk_string_object_get_string (so) : NULL;
}

gboolean
hl_param_panel_set_method (HlParamPanel  *self,
                           const char    *name,
                           GError       **error)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->methods));

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->methods, i), name) == 0)
      {
        if (gtk_drop_down_get_selected (self->method_dropdown) != i)
          gtk_drop_down_set_selected (self->method_dropdown, i);
        return TRUE;
      }
  g_set_error (error, HL_APP_ERROR, HL_ERR_ARG,
               "unknown method '%s'; known: %s", name, hl_method_names ());
  return FALSE;
}

void
hl_param_panel_step_method (HlParamPanel *self,
                            int           step)
{
  int n = (int) g_list_model_get_n_items (G_LIST_MODEL (self->methods));
  int i = (int) gtk_drop_down_get_selected (self->method_dropdown);

  if (n == 0)
    return;
  i = i < 0 || i >= n ? 0 : ((i + step) % n + n) % n;
  gtk_drop_down_set_selected (self->method_dropdown, (guint) i);
}

const hl_attr_params *
hl_param_panel_get_params (HlParamPanel *self)
{
  return &self->params;
}

gboolean
hl_param_panel_set_param (HlParamPanel  *self,
                          const char    *name,
                          const char    *value,
                          GError       **error)
{
  const hl_param_desc *d = hl_param_find (name);
  hl_error err = { 0 };

  if (d == NULL)
    {
      g_set_error (error, HL_APP_ERROR, HL_ERR_ARG, "unknown parameter '%s'", name);
      return FALSE;
    }
  if (hl_param_set (&self->params, d, value, &err) != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return FALSE;
    }
  if (g_strcmp0 (d->name, "neuron") == 0)
    self->neuron_is_default = FALSE;
  if (g_strcmp0 (d->name, "layer") == 0)
    {
      self->layer_is_default = FALSE;
      hl_param_panel_neuron_follow_layer (self);
    }
  hl_param_panel_rebuild (self);
  hl_param_panel_emit_changed (self);
  return TRUE;
}

/* Captum's defaults, except that layer maps are upsampled to the input so
 * they can be laid over the photo, the way the CLI and the report draw
 * them (HL_ATTR_DISPLAY_INTERP, Captum's nearest); "none" stays
 * selectable. */
static void
init_params (hl_attr_params *p, const char *method)
{
  hl_attr_params_init_for_method (p, method);
  p->interpolate = HL_ATTR_DISPLAY_INTERP;
}

void
hl_param_panel_reset (HlParamPanel *self)
{
  init_params (&self->params, hl_param_panel_get_method (self));
  g_free (self->params_method);
  self->params_method = g_strdup (hl_param_panel_get_method (self));
  fill_model_defaults (self);
  hl_param_panel_rebuild (self);
  hl_param_panel_emit_changed (self);
}

gboolean
hl_param_panel_get_pick_strongest (HlParamPanel *self)
{
  return self->pick_strongest;
}

gboolean
hl_param_panel_get_neuron_is_default (HlParamPanel *self)
{
  return self->neuron_is_default && self->params.has_neuron;
}

char *
hl_param_panel_describe (const char           *method,
                         const hl_attr_params *params)
{
  const hl_method_desc *md = hl_method_find (method);
  GString *s = g_string_new (NULL);

  for (const char *const *name = md ? md->params : NULL; name && *name; name++)
    {
      const hl_param_desc *d = hl_param_find (*name);
      char buf[600];

      if (d == NULL || g_strcmp0 (d->name, "target") == 0)
        continue;
      hl_param_format (params, d, buf, sizeof buf);
      g_string_append_printf (s, "%s%s=%s", s->len ? ", " : "", d->name, buf);
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------ GObject */

static void
hl_param_panel_dispose (GObject *object)
{
  HlParamPanel *self = HL_PARAM_PANEL (object);

  g_clear_handle_id (&self->rebuild_source, g_source_remove);
  g_clear_handle_id (&self->changed_source, g_source_remove);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->classifier);
  g_clear_object (&self->methods);
  g_clear_object (&self->layer_labels);
  g_clear_pointer (&self->layer_names, g_ptr_array_unref);
  g_clear_pointer (&self->params_method, g_free);
  G_OBJECT_CLASS (hl_param_panel_parent_class)->dispose (object);
}

static void
hl_param_panel_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  HlParamPanel *self = HL_PARAM_PANEL (object);

  switch (prop_id)
    {
    case PROP_METHOD:
      g_value_set_string (value, hl_param_panel_get_method (self));
      break;
    case PROP_CLASSIFIER:
      g_value_set_object (value, self->classifier);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_param_panel_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  HlParamPanel *self = HL_PARAM_PANEL (object);

  switch (prop_id)
    {
    case PROP_METHOD:
      {
        g_autoptr(GError) error = NULL;

        if (!hl_param_panel_set_method (self, g_value_get_string (value), &error))
          g_signal_emit (self, signals[SIG_INVALID], 0, error);
      }
      break;
    case PROP_CLASSIFIER:
      hl_param_panel_set_classifier (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_param_panel_class_init (HlParamPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_param_panel_dispose;
  object_class->get_property = hl_param_panel_get_property;
  object_class->set_property = hl_param_panel_set_property;

  properties[PROP_METHOD] =
    g_param_spec_string ("method", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLASSIFIER] =
    g_param_spec_object ("classifier", NULL, NULL, HL_TYPE_CLASSIFIER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIG_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIG_INVALID] =
    g_signal_new ("invalid", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heatlens/Heatlens/ui/heatlens-param-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, box);
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, method_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, description_label);
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, param_grid);
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, advanced_grid);
  gtk_widget_class_bind_template_child (widget_class, HlParamPanel, advanced_expander);
  gtk_widget_class_bind_template_callback (widget_class, reset_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hl_param_panel_init (HlParamPanel *self)
{
  g_autoptr(GtkListItemFactory) button_factory = method_factory (FALSE);
  g_autoptr(GtkListItemFactory) list_factory = method_factory (TRUE);

  gtk_widget_init_template (GTK_WIDGET (self));
  init_params (&self->params, NULL);
  self->default_layer = -1;
  self->pick_strongest = TRUE;

  /* grouped: gradient, path, perturbation, layer, neuron */
  self->methods = gtk_string_list_new (NULL);
  for (int g = HL_GROUP_GRADIENT; g <= HL_GROUP_NEURON; g++)
    for (int i = 0; i < hl_method_count (); i++)
      if ((int) hl_method_get (i)->group == g)
        gtk_string_list_append (self->methods, hl_method_get (i)->name);

  gtk_drop_down_set_factory (self->method_dropdown, button_factory);
  gtk_drop_down_set_list_factory (self->method_dropdown, list_factory);
  {
    g_autoptr(GtkExpression) expr = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL,
                                                                 G_CALLBACK (method_search_text),
                                                                 NULL, NULL);

    gtk_drop_down_set_expression (self->method_dropdown, expr);
  }
  gtk_drop_down_set_model (self->method_dropdown, G_LIST_MODEL (self->methods));
  hl_drop_down_search_anywhere (self->method_dropdown);
  g_signal_connect (self->method_dropdown, "notify::selected",
                    G_CALLBACK (method_selected_cb), self);
  hl_param_panel_rebuild (self);
}

