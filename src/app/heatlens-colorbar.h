/* HlColorbar: a horizontal colour bar in the theme's font and colour:
 * viz's colormap and ticks, a row of normalised ticks labelled "norm." and,
 * when the map's threshold is known, a row of the raw attribution values
 * they stand for labelled "raw". The overlay panel, each comparison card
 * and the comparison's shared bars use it. */
#pragma once

#include <gtk/gtk.h>
#include "viz.h"

G_BEGIN_DECLS

#define HL_TYPE_COLORBAR (hl_colorbar_get_type ())
G_DECLARE_FINAL_TYPE (HlColorbar, hl_colorbar, HL, COLORBAR, GtkWidget)

GtkWidget *hl_colorbar_new       (void);
/* threshold: the raw value of normalised 1 (0 = unknown: no raw row);
 * is_zero: the map is zero everywhere (said in place of the raw row). */
void       hl_colorbar_set_scale (HlColorbar     *self,
                                  hl_viz_sign     sign,
                                  hl_colormap_id  cmap,
                                  double          threshold,
                                  gboolean        is_zero);
/* Room for the raw row even without one (the default: a bar whose map
 * changes keeps its height); FALSE for a bar that is only normalised. */
void       hl_colorbar_set_reserve_raw (HlColorbar *self,
                                        gboolean    reserve);
/* The tick labels as drawn, for tests: row 0 normalised, row 1 raw
 * (NULL when that row is not drawn); i in 0..4. */
const char *hl_colorbar_get_tick (HlColorbar *self,
                                  int         row,
                                  int         i);

G_END_DECLS
