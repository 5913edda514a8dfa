/* HlCompareGrid: the current photo and the results pinned for it, side by
 * side, filling the pane (HlCompareLayout), drawn with the current overlay
 * options and each method's sign and colormap (unless the user chose
 * them); each card has its colour bar, or, with shared colour bars (all
 * methods at once), one bar per sign above the cards. */
#pragma once

#include <gtk/gtk.h>
#include "viz.h"
#include "heatlens-photo.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_COMPARE_GRID (hl_compare_grid_get_type ())
G_DECLARE_FINAL_TYPE (HlCompareGrid, hl_compare_grid, HL, COMPARE_GRID, GtkWidget)

GtkWidget *hl_compare_grid_new         (void);
/* A new photo clears the pins. */
void       hl_compare_grid_set_photo   (HlCompareGrid        *self,
                                        HlPhoto              *photo,
                                        const hl_crop_map    *map);
/* FALSE when the same result (cache key) is already pinned. */
gboolean   hl_compare_grid_pin         (HlCompareGrid        *self,
                                        HlResult             *result);
void       hl_compare_grid_unpin       (HlCompareGrid        *self,
                                        guint                 index);
void       hl_compare_grid_clear       (HlCompareGrid        *self);
void       hl_compare_grid_set_options (HlCompareGrid        *self,
                                        const hl_viz_options *options);
/* The sign / colormap are the user's (every card uses the overlay's),
 * else each card's method's (hl_viz_method_defaults). */
void       hl_compare_grid_set_user_choice (HlCompareGrid    *self,
                                            gboolean          sign,
                                            gboolean          cmap);
/* One colour bar per sign for all cards instead of one per card (until
 * the grid is cleared). */
void       hl_compare_grid_set_shared_colorbars (HlCompareGrid *self,
                                                 gboolean       shared);
gboolean   hl_compare_grid_get_shared_colorbars (HlCompareGrid *self);
/* The columns of the cards as last laid out (for tests). */
int        hl_compare_grid_get_columns (HlCompareGrid        *self);
guint      hl_compare_grid_get_n_pins  (HlCompareGrid        *self);
HlResult  *hl_compare_grid_get_pin     (HlCompareGrid        *self,
                                        guint                 index);

G_END_DECLS
