/* HlCompareLayout: lays the comparison cards out so they fill the pane.
 * Every card gets the same width; the number of columns is the one that
 * makes the cards largest while all of them fit in the pane's height (a
 * card is its text, measured, plus a picture of the photo's aspect).
 * When even cards of the smallest width (HL_COMPARE_MIN_CARD) do not fit,
 * as many columns of that width as the pane holds, and the minimum height
 * it reports makes the scrolled window scroll. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HL_COMPARE_MIN_CARD 150
#define HL_COMPARE_GAP 12

#define HL_TYPE_COMPARE_LAYOUT (hl_compare_layout_get_type ())
G_DECLARE_FINAL_TYPE (HlCompareLayout, hl_compare_layout, HL, COMPARE_LAYOUT, GtkLayoutManager)

GtkLayoutManager *hl_compare_layout_new        (void);
/* The photo's height / width: the cards' pictures have this aspect. */
void              hl_compare_layout_set_aspect (HlCompareLayout *self,
                                                double           aspect);
/* The columns of the last allocation (for tests). */
int               hl_compare_layout_get_columns (HlCompareLayout *self);

G_END_DECLS
