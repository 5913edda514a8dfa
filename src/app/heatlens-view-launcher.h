/* `heatlens --view explain|ig-path|layers|all-methods|compare [--present]
 * [--screenshot OUT.png]`: opens the view once the window's first
 * prediction is in and, with a screenshot path, renders the view's window
 * into it when the view is complete (the IG path and the layer grid
 * computed, every method of all-methods pinned, the result shown for
 * compare), then quits the application. */
#pragma once

#include <gtk/gtk.h>
#include "heatlens-window.h"

G_BEGIN_DECLS

/* exit_status: where a failure is recorded (the application's). */
void hl_view_launcher_start (GApplication *app,
                             HlWindow     *window,
                             const char   *view,
                             const char   *screenshot,
                             int          *exit_status);

G_END_DECLS
