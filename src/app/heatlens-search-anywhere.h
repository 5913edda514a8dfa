/* GtkDropDown's search (GTK 4.8) matches only the start of an item's
 * text: "gradcam" finds nothing in "Layer GradCAM". This switches the
 * drop-down's own string filter to match anywhere, ignoring case, and keeps
 * it so when the drop-down rebuilds its filter (new model or expression).
 * GTK 4.12's gtk_drop_down_set_search_match_mode does the same. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void         hl_drop_down_search_anywhere (GtkDropDown *dropdown);
/* The number of items the drop-down's list shows for `text` typed in its
 * search entry (for tests and the layer browser's status). */
guint        hl_drop_down_search_count    (GtkDropDown *dropdown,
                                           const char  *text);

G_END_DECLS
