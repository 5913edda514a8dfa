/* The teaching views of HlWindow: the method explanation, the IG path
 * explorer, the layer browser, all methods at once into the compare grid,
 * and presentation mode. Each is a window action (explain-method, ig-path,
 * layers, all-methods, present, sidebar) and a call here for --view. */
#pragma once

#include "heatlens-window.h"

G_BEGIN_DECLS

/* The views `heatlens --view` knows, NULL-terminated. */
extern const char *const hl_window_view_names[];

/* Opens a view for the current photo, model, method and class:
 * "explain" | "ig-path" | "layers" return the new window (owned by GTK);
 * "all-methods" starts filling the compare grid and "compare" shows it
 * (both return the main window). NULL with an error for other names or
 * before the first prediction. */
GtkWindow *hl_window_open_view       (HlWindow    *self,
                                      const char  *view,
                                      GError     **error);
/* Presentation mode: large text and controls, the sidebar hidden (F9
 * shows it), the picture as large as the window. */
void       hl_window_set_presenting  (HlWindow    *self,
                                      gboolean     presenting);
gboolean   hl_window_get_presenting  (HlWindow    *self);
/* The methods "all-methods" computes, NULL-terminated, and how many of
 * them are pinned so far. */
extern const char *const hl_window_all_methods[];
guint      hl_window_all_methods_done (HlWindow   *self);

G_END_DECLS
