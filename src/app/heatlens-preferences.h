/* The preferences window (one setting for now: the engine's memory limit,
 * issue 16) and the link between that setting and the engine. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Applies the "max-memory-mib" setting to the engine (hl_set_max_memory;
 * 0 = the engine's default) now and whenever it changes. */
void       hl_preferences_track_memory_limit (GSettings *settings);

/* A window with a spin button bound to "max-memory-mib". */
GtkWindow *hl_preferences_new                (GtkWindow *parent,
                                              GSettings *settings);

G_END_DECLS
