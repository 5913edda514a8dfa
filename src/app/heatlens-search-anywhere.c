/* Substring search for GtkDropDown (see heatlens-search-anywhere.h). The
 * drop-down's popup holds a GtkListView whose model is a selection over a
 * GtkFilterListModel with a GtkStringFilter; only its match mode changes. */
#include "heatlens-search-anywhere.h"

static GtkWidget *
find_type (GtkWidget *widget,
           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_type (c, type);

      if (found)
        return found;
    }
  return NULL;
}

static GtkFilterListModel *
filter_model (GtkDropDown *dropdown)
{
  GtkWidget *list = find_type (GTK_WIDGET (dropdown), GTK_TYPE_LIST_VIEW);
  GtkSelectionModel *selection = list ? gtk_list_view_get_model (GTK_LIST_VIEW (list)) : NULL;
  GListModel *model = GTK_IS_SINGLE_SELECTION (selection)
                      ? gtk_single_selection_get_model (GTK_SINGLE_SELECTION (selection)) : NULL;

  return GTK_IS_FILTER_LIST_MODEL (model) ? GTK_FILTER_LIST_MODEL (model) : NULL;
}

static void
apply (GtkDropDown *dropdown)
{
  GtkFilterListModel *model = filter_model (dropdown);
  GtkFilter *filter = model ? gtk_filter_list_model_get_filter (model) : NULL;

  if (GTK_IS_STRING_FILTER (filter))
    {
      gtk_string_filter_set_match_mode (GTK_STRING_FILTER (filter),
                                        GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
      gtk_string_filter_set_ignore_case (GTK_STRING_FILTER (filter), TRUE);
    }
}

static void
rebuilt_cb (GtkDropDown *dropdown,
            GParamSpec  *pspec,
            gpointer     data)
{
  apply (dropdown);
}

void
hl_drop_down_search_anywhere (GtkDropDown *dropdown)
{
  apply (dropdown);
  if (g_object_get_data (G_OBJECT (dropdown), "hl-search-anywhere"))
    return;
  g_object_set_data (G_OBJECT (dropdown), "hl-search-anywhere", GINT_TO_POINTER (1));
  g_signal_connect_after (dropdown, "notify::model", G_CALLBACK (rebuilt_cb), NULL);
  g_signal_connect_after (dropdown, "notify::expression", G_CALLBACK (rebuilt_cb), NULL);
  g_signal_connect_after (dropdown, "notify::enable-search", G_CALLBACK (rebuilt_cb), NULL);
}

guint
hl_drop_down_search_count (GtkDropDown *dropdown,
                           const char  *text)
{
  GtkWidget *entry = find_type (GTK_WIDGET (dropdown), GTK_TYPE_SEARCH_ENTRY);
  GtkFilterListModel *model = filter_model (dropdown);

  if (entry == NULL || model == NULL)
    return 0;
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  /* the entry's "search-changed" comes after a delay: apply the text to
   * the filter now, as that handler would */
  if (GTK_IS_STRING_FILTER (gtk_filter_list_model_get_filter (model)))
    gtk_string_filter_set_search (GTK_STRING_FILTER (gtk_filter_list_model_get_filter (model)), text);
  while (gtk_filter_list_model_get_pending (model))
    g_main_context_iteration (NULL, FALSE);
  return g_list_model_get_n_items (G_LIST_MODEL (model));
}
