/* The comparison cards' layout (see heatlens-compare-layout.h). */
#include "heatlens-compare-layout.h"

#include <math.h>

struct _HlCompareLayout
{
  GtkLayoutManager parent_instance;

  double           aspect;
  int              columns;
};

G_DEFINE_FINAL_TYPE (HlCompareLayout, hl_compare_layout, GTK_TYPE_LAYOUT_MANAGER)

/* One arrangement: cards of width card_w in `cols` columns. */
typedef struct
{
  int cols;
  int card_w;
  int height;     /* of all rows with their gaps */
} Arrangement;

static guint
n_cards (GtkWidget *widget)
{
  guint n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    n += gtk_widget_should_layout (c);
  return n;
}

/* A card's height at width w: its text (the picture can shrink to
 * nothing, so the minimum height is all but the picture) plus the
 * picture at the photo's aspect. */
static int
card_height (HlCompareLayout *self,
             GtkWidget       *card,
             int              w)
{
  int text_h = 0;

  gtk_widget_measure (card, GTK_ORIENTATION_VERTICAL, w, &text_h, NULL, NULL, NULL);
  /* (the card's padding and border: about 18 px of its width) */
  return text_h + (int) ceil (MAX (0, w - 18) * self->aspect);
}

/* The rows' heights for cards of width w in cols columns; the total. */
static int
rows_height (HlCompareLayout *self,
             GtkWidget       *widget,
             int              cols,
             int              w,
             int             *row_h,
             int              max_rows)
{
  int total = 0, i = 0, row = -1;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      int h;

      if (!gtk_widget_should_layout (c))
        continue;
      if (i % cols == 0)
        {
          row++;
          if (row_h && row < max_rows)
            row_h[row] = 0;
        }
      h = card_height (self, c, w);
      if (row_h && row < max_rows)
        row_h[row] = MAX (row_h[row], h);
      i++;
    }
  if (row_h)
    for (int r = 0; r <= row && r < max_rows; r++)
      total += row_h[r] + (r ? HL_COMPARE_GAP : 0);
  return total;
}

static int
card_width_for (int width,
                int cols)
{
  return (width - (cols - 1) * HL_COMPARE_GAP) / cols;
}

/* Columns of HL_COMPARE_MIN_CARD (or wider) that fit the width. */
static int
scroll_columns (int width,
                guint n)
{
  int cols = MAX (1, (width + HL_COMPARE_GAP) / (HL_COMPARE_MIN_CARD + HL_COMPARE_GAP));

  return MIN (cols, (int) MAX (n, 1));
}

static Arrangement
arrange (HlCompareLayout *self,
         GtkWidget       *widget,
         int              width,
         int              height)
{
  guint n = n_cards (widget);
  Arrangement best = { 0 }, fallback;
  g_autofree int *row_h = g_new0 (int, MAX (n, 1));

  fallback.cols = scroll_columns (width, n);
  fallback.card_w = card_width_for (width, fallback.cols);
  fallback.height = rows_height (self, widget, fallback.cols, fallback.card_w, row_h, (int) MAX (n, 1));
  if (n == 0 || height < 0)
    return fallback;
  for (int cols = 1; cols <= (int) n; cols++)
    {
      int rows = ((int) n + cols - 1) / cols;
      int w = card_width_for (width, cols), h;

      if (w < HL_COMPARE_MIN_CARD)
        break;
      /* narrower until the rows fit the height (text wraps as it narrows,
       * so measure again at each width) */
      while (w >= HL_COMPARE_MIN_CARD &&
             (h = rows_height (self, widget, cols, w, row_h, rows)) > height)
        w -= MAX (4, (int) ceil ((h - height) / (double) rows / MAX (self->aspect, 0.2)));
      if (w >= HL_COMPARE_MIN_CARD && w > best.card_w)
        {
          best.cols = cols;
          best.card_w = w;
          best.height = rows_height (self, widget, cols, w, row_h, rows);
        }
    }
  return best.cols ? best : fallback;
}

static void
hl_compare_layout_measure (GtkLayoutManager *manager,
                           GtkWidget        *widget,
                           GtkOrientation    orientation,
                           int               for_size,
                           int              *minimum,
                           int              *natural,
                           int              *minimum_baseline,
                           int              *natural_baseline)
{
  HlCompareLayout *self = HL_COMPARE_LAYOUT (manager);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = HL_COMPARE_MIN_CARD;
      *natural = 2 * HL_COMPARE_MIN_CARD + HL_COMPARE_GAP;
    }
  else
    {
      /* the scrolling arrangement: what the cards need at least */
      Arrangement a = arrange (self, widget, for_size < 0 ? HL_COMPARE_MIN_CARD : for_size, -1);

      *minimum = *natural = a.height;
    }
}

static void
hl_compare_layout_allocate (GtkLayoutManager *manager,
                            GtkWidget        *widget,
                            int               width,
                            int               height,
                            int               baseline)
{
  HlCompareLayout *self = HL_COMPARE_LAYOUT (manager);
  Arrangement a = arrange (self, widget, width, height);
  guint n = n_cards (widget);
  g_autofree int *row_h = g_new0 (int, MAX (n, 1));
  int used_w = a.cols * a.card_w + (a.cols - 1) * HL_COMPARE_GAP;
  int x0 = MAX (0, (width - used_w) / 2), y = 0, i = 0;

  self->columns = a.cols;
  rows_height (self, widget, a.cols, a.card_w, row_h, (int) MAX (n, 1));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      int col, row;

      if (!gtk_widget_should_layout (c))
        continue;
      col = i % a.cols;
      row = i / a.cols;
      if (col == 0 && row > 0)
        y += row_h[row - 1] + HL_COMPARE_GAP;
      gtk_widget_size_allocate (c, &(GtkAllocation) { x0 + col * (a.card_w + HL_COMPARE_GAP), y,
                                                      a.card_w, row_h[row] }, -1);
      i++;
    }
}

static GtkSizeRequestMode
hl_compare_layout_get_request_mode (GtkLayoutManager *manager,
                                    GtkWidget        *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

GtkLayoutManager *
hl_compare_layout_new (void)
{
  return g_object_new (HL_TYPE_COMPARE_LAYOUT, NULL);
}

void
hl_compare_layout_set_aspect (HlCompareLayout *self,
                              double           aspect)
{
  if (!(aspect > 0) || aspect == self->aspect)
    return;
  self->aspect = aspect;
  gtk_layout_manager_layout_changed (GTK_LAYOUT_MANAGER (self));
}

int
hl_compare_layout_get_columns (HlCompareLayout *self)
{
  return self->columns;
}

static void
hl_compare_layout_class_init (HlCompareLayoutClass *klass)
{
  GtkLayoutManagerClass *manager_class = GTK_LAYOUT_MANAGER_CLASS (klass);

  manager_class->measure = hl_compare_layout_measure;
  manager_class->allocate = hl_compare_layout_allocate;
  manager_class->get_request_mode = hl_compare_layout_get_request_mode;
}

static void
hl_compare_layout_init (HlCompareLayout *self)
{
  self->aspect = 0.75;
}
