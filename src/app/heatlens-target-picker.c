#include "heatlens-target-picker.h"

#include <stdlib.h>

struct _HlTargetPicker
{
  GtkWidget          parent_instance;

  GtkWidget         *box;
  GtkListBox        *top_list;
  GtkLabel          *target_label;
  GtkMenuButton     *other_button;
  GtkPopover        *other_popover;
  GtkSearchEntry    *search_entry;
  GtkListView       *all_list;

  GtkStringList     *all_labels;   /* "index  label" */
  GtkStringFilter   *filter;
  GtkFilterListModel *filtered;
  HlClassifier      *classifier;
  HlPrediction      *prediction;
  int                target;
};

G_DEFINE_FINAL_TYPE (HlTargetPicker, hl_target_picker, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_TARGET, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
update_target_label (HlTargetPicker *self)
{
  g_autofree char *text = NULL;

  if (self->classifier == NULL || self->prediction == NULL || self->target < 0)
    {
      gtk_label_set_text (self->target_label, "");
      return;
    }
  text = g_markup_printf_escaped ("Explaining <b>%s</b> (%.1f%%)",
                          hl_classifier_get_short_label (self->classifier, self->target),
                          100.0 * self->prediction->probs[self->target]);
  gtk_label_set_markup (self->target_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->target_label),
                               hl_classifier_get_label (self->classifier, self->target));
}

static void
select_matching_row (HlTargetPicker *self)
{
  GtkListBoxRow *row;
  int i = 0;

  gtk_list_box_unselect_all (self->top_list);
  while ((row = gtk_list_box_get_row_at_index (self->top_list, i++)))
    if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "hl-class")) == self->target)
      gtk_list_box_select_row (self->top_list, row);
}

static void
set_target_internal (HlTargetPicker *self,
                     int             target)
{
  gboolean changed = target != self->target;

  self->target = target;
  select_matching_row (self);
  update_target_label (self);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET]);
}

static GtkWidget *
make_top_row (HlTargetPicker *self,
              int             cls,
              float           prob)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *name = gtk_label_new (hl_classifier_get_short_label (self->classifier, cls));
  g_autofree char *pct_text = g_strdup_printf ("%.1f%%", 100.0 * prob);
  GtkWidget *pct = gtk_label_new (pct_text);
  GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);

  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 3);
  gtk_widget_set_margin_start (grid, 10);
  gtk_widget_set_margin_end (grid, 10);
  gtk_widget_set_margin_top (grid, 4);
  gtk_widget_set_margin_bottom (grid, 5);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_set_tooltip_text (name, hl_classifier_get_label (self->classifier, cls));
  gtk_widget_add_css_class (pct, "numeric");
  gtk_widget_add_css_class (pct, "dim-label");
  gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), prob);
  gtk_level_bar_set_mode (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_MODE_CONTINUOUS);
  /* one colour for all rows: the bar is a probability, not a warning */
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_grid_attach (GTK_GRID (grid), name, 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), pct, 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), bar, 0, 1, 2, 1);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), grid);
  g_object_set_data (G_OBJECT (row), "hl-class", GINT_TO_POINTER (cls));
  return row;
}

static void
top_row_activated_cb (HlTargetPicker *self,
                      GtkListBoxRow  *row)
{
  set_target_internal (self, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "hl-class")));
}

static void
search_changed_cb (HlTargetPicker *self)
{
  gtk_string_filter_set_search (self->filter,
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
pick_filtered (HlTargetPicker *self,
               guint           position)
{
  g_autoptr(GtkStringObject) so = g_list_model_get_item (G_LIST_MODEL (self->filtered), position);

  if (so == NULL)
    return;
  gtk_popover_popdown (self->other_popover);
  set_target_internal (self, atoi (gtk_string_object_get_string (so)));
}

static void
all_list_activate_cb (HlTargetPicker *self,
                      guint           position)
{
  pick_filtered (self, position);
}

static void
search_activate_cb (HlTargetPicker *self)
{
  pick_filtered (self, 0);
}

static void
popover_show_cb (HlTargetPicker *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
label_setup_cb (GtkSignalListItemFactory *f,
                GtkListItem              *item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
label_bind_cb (GtkSignalListItemFactory *f,
               GtkListItem              *item)
{
  GtkStringObject *so = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (so));
}

/* ------------------------------------------------------------ API */

GtkWidget *
hl_target_picker_new (void)
{
  return g_object_new (HL_TYPE_TARGET_PICKER, NULL);
}

void
hl_target_picker_set_prediction (HlTargetPicker *self,
                                 HlClassifier   *classifier,
                                 HlPrediction   *prediction)
{
  GtkWidget *child;
  gboolean new_labels = classifier != self->classifier;

  g_set_object (&self->classifier, classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  if (prediction)
    self->prediction = hl_prediction_ref (prediction);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->top_list))))
    gtk_list_box_remove (self->top_list, child);
  if (new_labels)
    {
      guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->all_labels));
      g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

      for (int i = 0; classifier && i < hl_classifier_get_n_classes (classifier); i++)
        g_ptr_array_add (items, g_strdup_printf ("%d  %s", i, hl_classifier_get_label (classifier, i)));
      g_ptr_array_add (items, NULL);
      gtk_string_list_splice (self->all_labels, 0, n_old, (const char * const *) items->pdata);
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->other_button), prediction != NULL);
  if (prediction == NULL || classifier == NULL)
    {
      set_target_internal (self, -1);
      return;
    }
  for (int k = 0; k < prediction->n_top; k++)
    gtk_list_box_append (self->top_list,
                         make_top_row (self, prediction->top[k],
                                       prediction->probs[prediction->top[k]]));
  set_target_internal (self, prediction->top[0]);
}

int
hl_target_picker_get_target (HlTargetPicker *self)
{
  return self->target;
}

void
hl_target_picker_set_target (HlTargetPicker *self,
                             int             target)
{
  if (self->classifier && (target < 0 || target >= hl_classifier_get_n_classes (self->classifier)))
    return;
  set_target_internal (self, target);
}

/* ------------------------------------------------------------ GObject */

static void
hl_target_picker_dispose (GObject *object)
{
  HlTargetPicker *self = HL_TARGET_PICKER (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->classifier);
  g_clear_pointer (&self->prediction, hl_prediction_unref);
  g_clear_object (&self->filtered);
  G_OBJECT_CLASS (hl_target_picker_parent_class)->dispose (object);
}

static void
hl_target_picker_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_TARGET:
      g_value_set_int (value, HL_TARGET_PICKER (object)->target);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_target_picker_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_TARGET:
      hl_target_picker_set_target (HL_TARGET_PICKER (object), g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hl_target_picker_class_init (HlTargetPickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hl_target_picker_dispose;
  object_class->get_property = hl_target_picker_get_property;
  object_class->set_property = hl_target_picker_set_property;

  properties[PROP_TARGET] =
    g_param_spec_int ("target", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heatlens/Heatlens/ui/heatlens-target-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, box);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, top_list);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, target_label);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, other_button);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, other_popover);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, search_entry);
  gtk_widget_class_bind_template_child (widget_class, HlTargetPicker, all_list);
  gtk_widget_class_bind_template_callback (widget_class, top_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, all_list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, popover_show_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
hl_target_picker_init (HlTargetPicker *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->target = -1;
  self->all_labels = gtk_string_list_new (NULL);
  self->filter = gtk_string_filter_new (gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string"));
  gtk_string_filter_set_ignore_case (self->filter, TRUE);
  gtk_string_filter_set_match_mode (self->filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  /* the filter model owns both */
  self->filtered = gtk_filter_list_model_new (G_LIST_MODEL (self->all_labels), GTK_FILTER (self->filter));
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (label_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (label_bind_cb), NULL);
  gtk_list_view_set_factory (self->all_list, factory);
  g_object_unref (factory);
  {
    g_autoptr(GtkSingleSelection) sel = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->filtered)));

    gtk_list_view_set_model (self->all_list, GTK_SELECTION_MODEL (sel));
  }
  gtk_widget_set_sensitive (GTK_WIDGET (self->other_button), FALSE);
}
