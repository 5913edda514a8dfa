#include "heatlens-param-panel.h"
#include "heatlens-search-anywhere.h"
#include "heatlens-error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct _HlParamPanel
{
  GtkWidget       parent_instance;

  GtkWidget      *box;
  GtkDropDown    *method_dropdown;
  GtkLabel       *description_label;
  GtkGrid        *param_grid;
  GtkGrid        *advanced_grid;
  GtkWidget      *advanced_expander;
  guint           rebuild_source;

  GtkStringList  *methods;        /* Captum names, grouped order */
  HlClassifier   *classifier;
  GPtrArray      *layer_names;    /* node names of the classifier */
  GtkStringList  *layer_labels;   /* "name  op [shape]" */
  int             default_layer;  /* index into layer_names or -1 */
  hl_attr_params  params;
  gboolean        building;       /* widgets being filled: no "changed" */
  gboolean        pick_strongest; /* a click on the photo takes the strongest channel */
  gboolean        neuron_is_default; /* filled in here, not chosen by the user */
};

G_DEFINE_FINAL_TYPE (HlParamPanel, hl_param_panel, GTK_TYPE_WIDGET)

enum { SIG_CHANGED, SIG_INVALID, N_SIGNALS };
static guint signals[N_SIGNALS];

static void rebuild_params (HlParamPanel *self);
static void neuron_limits (HlParamPanel *self, double max[3]);
static void fill_model_defaults (HlParamPanel *self);

/* Speed and reproducibility knobs: under "More options". */
static gboolean
is_advanced (const char *name)
{
  static const char *const names[] = {
    "internal-batch-size", "perturbations-per-eval", "seed", NULL };

  return g_strv_contains (names, name);
}

/* The noise tunnel's own settings only matter when it is on. */
static gboolean
is_hidden (HlParamPanel *self,
           const char   *name)
{
  return g_str_has_prefix (name, "nt-") && self->params.noise_tunnel == HL_NT_NONE;
}

static gboolean
rebuild_idle (gpointer data)
{
  HlParamPanel *self = data;

  self->rebuild_source = 0;
  rebuild_params (self);
  return G_SOURCE_REMOVE;
}

/* From inside a widget's own signal: rebuild once the signal is over. */
static void
queue_rebuild (HlParamPanel *self)
{
  if (self->rebuild_source == 0)
    self->rebuild_source = g_idle_add (rebuild_idle, self);
}

static void *
field (hl_attr_params      *p,
       const hl_param_desc *d)
{
  return (char *) p + d->offset;
}

static void
emit_changed (HlParamPanel *self)
{
  if (!self->building)
    g_signal_emit (self, signals[SIG_CHANGED], 0);
}

/* Every widget writes through the library's parser, so the GUI accepts
 * exactly what the CLI accepts. */
static gboolean
apply_text (HlParamPanel        *self,
            const hl_param_desc *d,
            const char          *text)
{
  hl_error err = { 0 };

  if (self->building)
    return FALSE;
  if (hl_param_set (&self->params, d, text, &err) != HL_OK)
    {
      g_autoptr(GError) error = NULL;

      hl_app_error_from_hl (&error, &err);
      g_signal_emit (self, signals[SIG_INVALID], 0, error);
      return FALSE;
    }
  if (g_strcmp0 (d->name, "neuron") == 0)
    self->neuron_is_default = FALSE;
  emit_changed (self);
  return TRUE;
}

/* ------------------------------------------------------------ widgets */

static const hl_param_desc *
widget_desc (GtkWidget *w)
{
  return g_object_get_data (G_OBJECT (w), "hl-param-desc");
}

static void
spin_changed_cb (GtkSpinButton *spin,
                 HlParamPanel  *self)
{
  const hl_param_desc *d = widget_desc (GTK_WIDGET (spin));
  char buf[64];

  if (d->type == HL_PARAM_FLOAT)
    g_ascii_formatd (buf, sizeof buf, "%.6g", gtk_spin_button_get_value (spin));
  else
    g_snprintf (buf, sizeof buf, "%d", gtk_spin_button_get_value_as_int (spin));
  apply_text (self, d, buf);
}

static void
switch_cb (GtkSwitch    *sw,
           GParamSpec   *pspec,
           HlParamPanel *self)
{
  apply_text (self, widget_desc (GTK_WIDGET (sw)),
              gtk_switch_get_active (sw) ? "true" : "false");
}

static void
enum_cb (GtkDropDown  *dd,
         GParamSpec   *pspec,
         HlParamPanel *self)
{
  const hl_param_desc *d = widget_desc (GTK_WIDGET (dd));
  guint i = gtk_drop_down_get_selected (dd);

  if (i != GTK_INVALID_LIST_POSITION)
    {
      apply_text (self, d, d->choices[i]);
      if (!self->building && g_strcmp0 (d->name, "noise-tunnel") == 0)
        queue_rebuild (self);
    }
}

/* The neuron follows the layer: the panel's own default, or a neuron the
 * new layer does not have, becomes the new layer's centre (channel 0,
 * which the window then replaces with the strongest one). */
static void
neuron_follow_layer (HlParamPanel *self)
{
  const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self));
  double max[3];
  const int *n = self->params.neuron;

  if (md == NULL || !md->needs_neuron || !self->params.has_neuron)
    return;
  neuron_limits (self, max);
  if (self->neuron_is_default || n[0] > max[0] || n[1] > max[1] || n[2] > max[2])
    {
      self->params.has_neuron = 0;
      fill_model_defaults (self);
    }
}

static void
layer_cb (GtkDropDown  *dd,
          GParamSpec   *pspec,
          HlParamPanel *self)
{
  guint i = gtk_drop_down_get_selected (dd);
  const hl_param_desc *d = widget_desc (GTK_WIDGET (dd));
  hl_error err = { 0 };

  if (self->building || self->layer_names == NULL || i >= self->layer_names->len)
    return;
  if (hl_param_set (&self->params, d, self->layer_names->pdata[i], &err) != HL_OK)
    {
      g_autoptr(GError) error = NULL;

      hl_app_error_from_hl (&error, &err);
      g_signal_emit (self, signals[SIG_INVALID], 0, error);
      return;
    }
  neuron_follow_layer (self);
  emit_changed (self);
  /* the neuron's ranges follow the layer */
  queue_rebuild (self);
}

static void
entry_activate_cb (GtkEntry     *entry,
                   HlParamPanel *self)
{
  const hl_param_desc *d = widget_desc (GTK_WIDGET (entry));

  /* a typed neuron also moves the channel spin button */
  if (apply_text (self, d, gtk_editable_get_text (GTK_EDITABLE (entry))) &&
      g_strcmp0 (d->name, "neuron") == 0)
    queue_rebuild (self);
}

static void
entry_focus_leave_cb (GtkEventControllerFocus *focus,
                      HlParamPanel            *self)
{
  GtkWidget *entry = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (focus));
  const hl_param_desc *d = widget_desc (entry);
  char current[600];

  hl_param_format (&self->params, d, current, sizeof current);
  if (g_strcmp0 (current, gtk_editable_get_text (GTK_EDITABLE (entry))) != 0)
    entry_activate_cb (GTK_ENTRY (entry), self);
}

/* ------------------------------------------------------------ files */

/* Parameters whose value may be a file (baseline, feature mask, baseline
 * set): the library's help says so ("... | FILE.npy"). */
static gboolean
takes_npy_file (const hl_param_desc *d)
{
  return d->type == HL_PARAM_STRING && d->help && strstr (d->help, "FILE.npy") != NULL;
}

static void
file_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  GtkWidget       *entry)
{
  HlParamPanel *self = g_object_get_data (G_OBJECT (dialog), "hl-panel");
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  path = file ? g_file_get_path (file) : NULL;
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  if (path && gtk_widget_get_root (entry))
    {
      gtk_editable_set_text (GTK_EDITABLE (entry), path);
      apply_text (self, widget_desc (entry), path);
    }
  g_object_unref (entry);
}

static void
file_button_cb (GtkButton    *button,
                HlParamPanel *self)
{
  GtkWidget *entry = g_object_get_data (G_OBJECT (button), "hl-entry");
  const hl_param_desc *d = widget_desc (entry);
  g_autofree char *title = g_strdup_printf ("Choose the %s (.npy)", d->name);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  GtkFileChooserNative *dialog =
    gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  const char *current = gtk_editable_get_text (GTK_EDITABLE (entry));

  gtk_file_filter_set_name (filter, "NumPy arrays (.npy)");
  gtk_file_filter_add_pattern (filter, "*.npy");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  if (g_str_has_suffix (current, ".npy") && g_path_is_absolute (current))
    {
      g_autoptr(GFile) file = g_file_new_for_path (current);

      gtk_file_chooser_set_file (GTK_FILE_CHOOSER (dialog), file, NULL);
    }
  g_object_set_data (G_OBJECT (dialog), "hl-panel", self);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (file_response_cb), g_object_ref (entry));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* The entry with a file chooser button after it. */
static GtkWidget *
with_file_button (HlParamPanel        *self,
                  const hl_param_desc *d,
                  GtkWidget           *entry)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *button = gtk_button_new_from_icon_name ("document-open-symbolic");
  g_autofree char *name = g_strdup_printf ("%s-file", d->name);
  g_autofree char *tip = g_strdup_printf ("Choose a .npy file for the %s", d->name);

  gtk_widget_add_css_class (box, "linked");
  gtk_widget_set_hexpand (box, TRUE);
  gtk_widget_set_name (button, name);
  gtk_widget_set_tooltip_text (button, tip);
  g_object_set_data (G_OBJECT (button), "hl-entry", entry);
  g_signal_connect (button, "clicked", G_CALLBACK (file_button_cb), self);
  gtk_box_append (GTK_BOX (box), entry);
  gtk_box_append (GTK_BOX (box), button);
  return box;
}

static GtkWidget *
make_spin (const hl_param_desc *d,
           double               value,
           double               min,
           double               max)
{
  gboolean is_float = d->type == HL_PARAM_FLOAT;
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, is_float ? 0.05 : 1);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), is_float ? 3 : 0);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  return spin;
}

/* Upper bounds of a neuron index from the chosen layer's shape. */
static void
neuron_limits (HlParamPanel *self,
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

static void
layer_setup_cb (GtkSignalListItemFactory *f,
                GtkListItem              *item,
                gpointer                  ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (ellipsize)
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_START);
      gtk_label_set_width_chars (GTK_LABEL (label), 16);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 16);
    }
  gtk_list_item_set_child (item, label);
}

static void
layer_bind_cb (GtkSignalListItemFactory *f,
               GtkListItem              *item,
               gpointer                  ellipsize)
{
  GtkStringObject *so = gtk_list_item_get_item (item);
  const char *text = gtk_string_object_get_string (so);
  GtkWidget *label = gtk_list_item_get_child (item);

  if (ellipsize)
    {
      /* the button: the node name alone, its end visible */
      const char *sep = strstr (text, "  ");
      g_autofree char *name = sep ? g_strndup (text, (gsize) (sep - text)) : g_strdup (text);

      gtk_label_set_text (GTK_LABEL (label), name);
      gtk_widget_set_tooltip_text (label, text);
    }
  else
    gtk_label_set_text (GTK_LABEL (label), text);
}

/* Layer names are long ("MobilenetV2/Conv_1/Relu6/act  Clip [1,1280,7,7]"):
 * the button shows the end of the name, the list shows it whole. */
static GtkListItemFactory *
layer_factory (gboolean ellipsize)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new ();

  g_signal_connect (f, "setup", G_CALLBACK (layer_setup_cb), GINT_TO_POINTER (ellipsize));
  g_signal_connect (f, "bind", G_CALLBACK (layer_bind_cb), GINT_TO_POINTER (ellipsize));
  return f;
}

static GtkWidget *
make_widget (HlParamPanel        *self,
             const hl_param_desc *d)
{
  GtkWidget *w = NULL;
  char text[600];
  char tip[700] = "";

  switch (d->type)
    {
    case HL_PARAM_INT:
      w = make_spin (d, *(int *) field (&self->params, d), d->min, d->max);
      g_signal_connect (w, "value-changed", G_CALLBACK (spin_changed_cb), self);
      break;
    case HL_PARAM_FLOAT:
      w = make_spin (d, *(float *) field (&self->params, d), d->min, d->max);
      g_signal_connect (w, "value-changed", G_CALLBACK (spin_changed_cb), self);
      break;
    case HL_PARAM_BOOL:
      w = gtk_switch_new ();
      gtk_widget_set_halign (w, GTK_ALIGN_START);
      gtk_switch_set_active (GTK_SWITCH (w), *(int *) field (&self->params, d) != 0);
      g_signal_connect (w, "notify::active", G_CALLBACK (switch_cb), self);
      break;
    case HL_PARAM_ENUM:
      w = gtk_drop_down_new_from_strings ((const char * const *) d->choices);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (w), (guint) *(int *) field (&self->params, d));
      g_signal_connect (w, "notify::selected", G_CALLBACK (enum_cb), self);
      break;
    case HL_PARAM_INT3:
      {
        /* one compact "C,H,W" field (three spin buttons do not fit a
         * sidebar); the library parses and range-checks it */
        const int *v = field (&self->params, d);
        double max[3] = { d->max, d->max, d->max };
        GtkEventController *focus = gtk_event_controller_focus_new ();

        if (g_strcmp0 (d->name, "neuron") == 0)
          neuron_limits (self, max);
        g_snprintf (text, sizeof text, "%d,%d,%d", v[0], v[1], v[2]);
        w = gtk_entry_new ();
        gtk_editable_set_text (GTK_EDITABLE (w), text);
        gtk_entry_set_placeholder_text (GTK_ENTRY (w), "C,H,W");
        g_signal_connect (w, "activate", G_CALLBACK (entry_activate_cb), self);
        g_signal_connect (focus, "leave", G_CALLBACK (entry_focus_leave_cb), self);
        gtk_widget_add_controller (w, focus);
        g_snprintf (tip, sizeof tip, "%s (C,H,W; C 0..%.0f, H 0..%.0f, W 0..%.0f)",
                    d->help, max[0], max[1], max[2]);
        if (g_strcmp0 (d->name, "neuron") != 0)
          g_snprintf (tip, sizeof tip, "%s (C,H,W; each %.0f..%.0f)", d->help, d->min, d->max);
      }
      break;
    case HL_PARAM_LAYER:
      {
        guint selected = GTK_INVALID_LIST_POSITION;

        w = gtk_drop_down_new (self->layer_labels ? g_object_ref (G_LIST_MODEL (self->layer_labels)) : NULL, NULL);
        g_autoptr(GtkListItemFactory) button_f = layer_factory (TRUE);
        g_autoptr(GtkListItemFactory) list_f = layer_factory (FALSE);

        gtk_drop_down_set_factory (GTK_DROP_DOWN (w), button_f);
        gtk_drop_down_set_list_factory (GTK_DROP_DOWN (w), list_f);
        g_autoptr(GtkExpression) expr = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");

        gtk_drop_down_set_enable_search (GTK_DROP_DOWN (w), TRUE);
        gtk_drop_down_set_expression (GTK_DROP_DOWN (w), expr);
        hl_drop_down_search_anywhere (GTK_DROP_DOWN (w));
        for (guint i = 0; self->layer_names && i < self->layer_names->len; i++)
          if (g_strcmp0 (self->layer_names->pdata[i], self->params.layer) == 0)
            selected = i;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (w), selected);
        g_signal_connect (w, "notify::selected", G_CALLBACK (layer_cb), self);
      }
      break;
    case HL_PARAM_STRING:
    case HL_PARAM_U64:
    default:
      {
        GtkEventController *focus = gtk_event_controller_focus_new ();

        hl_param_format (&self->params, d, text, sizeof text);
        w = gtk_entry_new ();
        gtk_editable_set_text (GTK_EDITABLE (w), text);
        gtk_entry_set_placeholder_text (GTK_ENTRY (w), d->type == HL_PARAM_U64 ? "0" : "zero");
        g_signal_connect (w, "activate", G_CALLBACK (entry_activate_cb), self);
        g_signal_connect (focus, "leave", G_CALLBACK (entry_focus_leave_cb), self);
        gtk_widget_add_controller (w, focus);
      }
      break;
    }
  g_object_set_data (G_OBJECT (w), "hl-param-desc", (gpointer) d);
  gtk_widget_set_name (w, d->name);   /* tests and CSS find it by name */
  gtk_widget_set_tooltip_text (w, tip[0] ? tip : d->help);
  gtk_widget_set_hexpand (w, TRUE);
  if (takes_npy_file (d))
    return with_file_button (self, d, w);
  return w;
}

/* "n-steps" -> "N steps" */
static char *
pretty_name (const char *name)
{
  char *s = g_strdup (name);

  for (char *c = s; *c; c++)
    if (*c == '-')
      *c = ' ';
  s[0] = g_ascii_toupper (s[0]);
  /* acronyms: "ig-method" -> "IG method", "nt-samples" -> "NT samples" */
  if (g_str_has_prefix (name, "ig-") || g_str_has_prefix (name, "nt-"))
    s[1] = g_ascii_toupper (s[1]);
  return s;
}

static void
neuron_channel_cb (GtkSpinButton *spin,
                   HlParamPanel  *self)
{
  const hl_param_desc *d = hl_param_find ("neuron");
  GtkWidget *entry = g_object_get_data (G_OBJECT (spin), "hl-neuron-entry");
  char text[64];

  if (self->building || d == NULL)
    return;
  g_snprintf (text, sizeof text, "%d,%d,%d", gtk_spin_button_get_value_as_int (spin),
              self->params.neuron[1], self->params.neuron[2]);
  self->building = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  self->building = FALSE;
  apply_text (self, d, text);
}

static void
strongest_cb (GtkCheckButton *check,
              GParamSpec     *pspec,
              HlParamPanel   *self)
{
  self->pick_strongest = gtk_check_button_get_active (check);
}

/* Under the neuron's C,H,W field: the channel on its own (a spin button),
 * whether a click on the photo takes the strongest channel there, and a
 * hint that clicking picks H,W. */
static int
attach_neuron_rows (HlParamPanel *self,
                    GtkWidget    *entry,
                    int           row)
{
  double max[3];
  GtkWidget *label = gtk_label_new_with_mnemonic ("C_hannel");
  GtkWidget *spin, *check, *hint;

  neuron_limits (self, max);
  spin = gtk_spin_button_new_with_range (0, max[0], 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), self->params.neuron[0]);
  gtk_widget_set_name (spin, "neuron-channel");
  gtk_widget_set_tooltip_text (spin, "Channel of the neuron (the C of C,H,W)");
  gtk_widget_set_hexpand (spin, TRUE);
  g_object_set_data (G_OBJECT (spin), "hl-neuron-entry", entry);
  g_signal_connect (spin, "value-changed", G_CALLBACK (neuron_channel_cb), self);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);
  gtk_grid_attach (self->param_grid, label, 0, row, 1, 1);
  gtk_grid_attach (self->param_grid, spin, 1, row, 1, 1);
  row++;

  check = gtk_check_button_new_with_mnemonic ("Click picks the _strongest channel");
  gtk_widget_set_name (check, "neuron-strongest");
  gtk_widget_set_tooltip_text (check, "When on, clicking the photo also sets C to the channel "
                                      "with the largest activation at that spot; when off, C stays");
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), self->pick_strongest);
  g_signal_connect (check, "notify::active", G_CALLBACK (strongest_cb), self);
  gtk_grid_attach (self->param_grid, check, 0, row, 2, 1);
  row++;

  hint = gtk_label_new ("Click the photo to pick the neuron's H,W");
  gtk_label_set_xalign (GTK_LABEL (hint), 0);
  gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_widget_add_css_class (hint, "caption");
  gtk_grid_attach (self->param_grid, hint, 0, row, 2, 1);
  return row + 1;
}

static void
rebuild_params (HlParamPanel *self)
{
  const hl_method_desc *md = hl_method_find (hl_param_panel_get_method (self));
  GtkWidget *child;
  int row = 0, adv_row = 0;

  self->building = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->param_grid))))
    gtk_grid_remove (self->param_grid, child);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->advanced_grid))))
    gtk_grid_remove (self->advanced_grid, child);
  if (md == NULL)
    {
      gtk_label_set_text (self->description_label, "");
      self->building = FALSE;
      return;
    }
  gtk_label_set_text (self->description_label, md->description);
  for (const char *const *name = md->params; name && *name; name++)
    {
      const hl_param_desc *d = hl_param_find (*name);
      g_autofree char *title = NULL;
      GtkWidget *label, *w;

      if (d == NULL || g_strcmp0 (d->name, "target") == 0 || is_hidden (self, d->name))
        continue;
      title = pretty_name (d->name);
      label = gtk_label_new (title);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_tooltip_text (label, d->help);
      w = make_widget (self, d);
      gtk_label_set_mnemonic_widget (GTK_LABEL (label), w);
      if (is_advanced (d->name))
        {
          gtk_grid_attach (self->advanced_grid, label, 0, adv_row, 1, 1);
          gtk_grid_attach (self->advanced_grid, w, 1, adv_row, 1, 1);
          adv_row++;
        }
      else
        {
          gtk_grid_attach (self->param_grid, label, 0, row, 1, 1);
          gtk_grid_attach (self->param_grid, w, 1, row, 1, 1);
          row++;
          if (g_strcmp0 (d->name, "neuron") == 0)
            row = attach_neuron_rows (self, w, row);
        }
    }
  gtk_widget_set_visible (self->advanced_expander, adv_row > 0);
  if (row == 0)
    {
      GtkWidget *label = gtk_label_new ("No parameters");

      gtk_widget_add_css_class (label, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_grid_attach (self->param_grid, label, 0, 0, 2, 1);
    }
  self->building = FALSE;
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
    hl_param_set (&self->params, d, self->layer_names->pdata[self->default_layer], NULL);
  if (md->needs_neuron && !self->params.has_neuron && (d = hl_param_find ("neuron")))
    {
      /* the centre of the layer's grid: a neuron looking at the middle */
      double max[3];
      char text[64];

      neuron_limits (self, max);
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

static void
method_selected_cb (GtkDropDown  *dd,
                    GParamSpec   *pspec,
                    HlParamPanel *self)
{
  fill_model_defaults (self);
  rebuild_params (self);
  emit_changed (self);
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

void
hl_param_panel_set_classifier (HlParamPanel *self,
                               HlClassifier *classifier)
{
  const hl_model *m;
  int n;

  g_set_object (&self->classifier, classifier);
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
  /* a layer name from another model means nothing here */
  self->params.layer[0] = '\0';
  self->params.has_neuron = 0;
  fill_model_defaults (self);
  rebuild_params (self);
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
    neuron_follow_layer (self);
  rebuild_params (self);
  emit_changed (self);
  return TRUE;
}

/* Captum's defaults, except that layer maps are upsampled to the input so
 * they can be laid over the photo, the way the CLI and the report draw
 * them (HL_ATTR_DISPLAY_INTERP, Captum's nearest); "none" stays
 * selectable. */
static void
init_params (hl_attr_params *p)
{
  hl_attr_params_init (p);
  p->interpolate = HL_ATTR_DISPLAY_INTERP;
}

void
hl_param_panel_reset (HlParamPanel *self)
{
  init_params (&self->params);
  fill_model_defaults (self);
  rebuild_params (self);
  emit_changed (self);
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
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->classifier);
  g_clear_object (&self->methods);
  g_clear_object (&self->layer_labels);
  g_clear_pointer (&self->layer_names, g_ptr_array_unref);
  G_OBJECT_CLASS (hl_param_panel_parent_class)->dispose (object);
}

static void
hl_param_panel_class_init (HlParamPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_param_panel_dispose;

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
  init_params (&self->params);
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
  rebuild_params (self);
}
