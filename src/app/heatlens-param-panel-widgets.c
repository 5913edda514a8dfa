/* HlParamPanel's widgets: one per parameter of the chosen method, made
 * from its descriptor (hl_param_desc: type, range, choices, help), the
 * layer picker over the model's nodes, the neuron's extra rows, and .npy
 * file buttons. */
#include "heatlens-param-panel-private.h"
#include "heatlens-search-anywhere.h"

#include <string.h>

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

static void *
field (hl_attr_params      *p,
       const hl_param_desc *d)
{
  return (char *) p + d->offset;
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
  if (hl_param_panel_store_text (self, d, buf))
    hl_param_panel_emit_changed_later (self);
}

/* "20", "50", "200" under N steps: a click sets the spin button. */
static void
preset_clicked_cb (GtkButton *button,
                   GtkWidget *spin)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin),
                             g_ascii_strtod (gtk_button_get_label (button), NULL));
}

static GtkWidget *
make_presets (GtkWidget *spin)
{
  static const char *const presets[] = { "20", "50", "200", NULL };
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  gtk_widget_add_css_class (box, "linked");
  gtk_widget_set_halign (box, GTK_ALIGN_END);
  for (const char *const *p = presets; *p; p++)
    {
      GtkWidget *b = gtk_button_new_with_label (*p);
      g_autofree char *name = g_strdup_printf ("%s-preset-%s", gtk_widget_get_name (spin), *p);
      g_autofree char *tip = g_strdup_printf ("Set %s to %s", gtk_widget_get_name (spin), *p);

      gtk_widget_set_name (b, name);
      gtk_widget_set_tooltip_text (b, tip);
      gtk_widget_add_css_class (b, "flat");
      g_signal_connect (b, "clicked", G_CALLBACK (preset_clicked_cb), spin);
      gtk_box_append (GTK_BOX (box), b);
    }
  return box;
}

static void
switch_cb (GtkSwitch    *sw,
           GParamSpec   *pspec,
           HlParamPanel *self)
{
  hl_param_panel_apply_text (self, widget_desc (GTK_WIDGET (sw)),
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
      hl_param_panel_apply_text (self, d, d->choices[i]);
      if (!self->building && g_strcmp0 (d->name, "noise-tunnel") == 0)
        hl_param_panel_queue_rebuild (self);
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
      hl_param_panel_emit_invalid (self, &err);
      return;
    }
  self->layer_is_default = FALSE;
  hl_param_panel_neuron_follow_layer (self);
  hl_param_panel_emit_changed (self);
  /* the neuron's ranges follow the layer */
  hl_param_panel_queue_rebuild (self);
}

static void
entry_activate_cb (GtkEntry     *entry,
                   HlParamPanel *self)
{
  const hl_param_desc *d = widget_desc (GTK_WIDGET (entry));

  /* a typed neuron also moves the channel spin button */
  if (hl_param_panel_apply_text (self, d, gtk_editable_get_text (GTK_EDITABLE (entry))) &&
      g_strcmp0 (d->name, "neuron") == 0)
    hl_param_panel_queue_rebuild (self);
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
      hl_param_panel_apply_text (self, widget_desc (entry), path);
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

/* A special value (n-samples 0, internal-batch-size 0) reads as the
 * library names it ("default (5)", "automatic") instead of a bare 0. */
static gboolean
spin_output_cb (GtkSpinButton *spin,
                gpointer       data)
{
  const hl_param_desc *d = g_object_get_data (G_OBJECT (spin), "hl-param-desc");
  const char *method = g_object_get_data (G_OBJECT (spin), "hl-method");
  double value = gtk_spin_button_get_value (spin);
  char buf[64];
  const char *name = hl_param_value_name (method, d, value, buf, sizeof buf);

  if (name == NULL)
    return FALSE;   /* the number, as GTK formats it */
  gtk_editable_set_text (GTK_EDITABLE (spin), name);
  return TRUE;
}

/* Typed text that is not a number (the special value's name) is that value. */
static int
spin_input_cb (GtkSpinButton *spin,
               double        *value,
               gpointer       data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end != text)
    {
      *value = v;
      return TRUE;
    }
  *value = 0;
  return TRUE;
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
      {
        char buf[64];

        w = make_spin (d, *(int *) field (&self->params, d), d->min, d->max);
        if (hl_param_value_name (hl_param_panel_get_method (self), d, 0, buf, sizeof buf))
          {
            g_object_set_data (G_OBJECT (w), "hl-param-desc", (gpointer) d);
            g_object_set_data_full (G_OBJECT (w), "hl-method",
                                    g_strdup (hl_param_panel_get_method (self)), g_free);
            /* (a numeric spin button refuses the name's letters) */
            gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (w), FALSE);
            g_signal_connect (w, "output", G_CALLBACK (spin_output_cb), NULL);
            g_signal_connect (w, "input", G_CALLBACK (spin_input_cb), NULL);
            gtk_spin_button_update (GTK_SPIN_BUTTON (w));
            /* the value's name fits ("default (25)") */
            gtk_editable_set_width_chars (GTK_EDITABLE (w), 11);
            g_snprintf (tip, sizeof tip, "%s (0 = %s)", d->help, buf);
          }
        g_signal_connect (w, "value-changed", G_CALLBACK (spin_changed_cb), self);
      }
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
          hl_param_panel_neuron_limits (self, max);
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
        {
          /* an empty field's meaning, as the library names it */
          char buf[64];
          const char *empty = hl_param_value_name (hl_param_panel_get_method (self), d, 0, buf, sizeof buf);

          gtk_entry_set_placeholder_text (GTK_ENTRY (w), empty ? empty : d->type == HL_PARAM_U64 ? "0" : "zero");
        }
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
  if (hl_param_panel_store_text (self, d, text))
    hl_param_panel_emit_changed_later (self);
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

  hl_param_panel_neuron_limits (self, max);
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

void
hl_param_panel_rebuild (HlParamPanel *self)
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
      g_autofree char *title = NULL, *tip = NULL;
      GtkWidget *label, *w;

      if (d == NULL || g_strcmp0 (d->name, "target") == 0 || is_hidden (self, d->name))
        continue;
      title = pretty_name (d->name);
      label = gtk_label_new (title);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      /* the sidebar has a fixed width: a long name ends in "…" */
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_width_chars (GTK_LABEL (label), 6);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 14);
      tip = g_strdup_printf ("%s: %s", title, d->help);
      gtk_widget_set_tooltip_text (label, tip);
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
          if (g_strcmp0 (d->name, "n-steps") == 0)
            gtk_grid_attach (self->param_grid, make_presets (w), 1, row++, 1, 1);
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

/* Layer and neuron defaults that need the model: the last spatial feature
 * map (what GradCAM is usually pointed at). */
