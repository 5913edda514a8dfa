/* HlImageView: the photo with the attribution overlay on top.
 *
 * Fits the photo in the widget; zoom (scroll, +/-, 0 for fit) about the
 * pointer and pan (drag, arrow keys). The overlay is rendered by viz from
 * the result's normalised map: a sign/outlier change re-normalises, a
 * mode/colormap/opacity change only re-colours; nothing is recomputed.
 * Outside the model's crop the photo is dimmed. Hovering shows the
 * attribution value under the pointer (tooltip and the hover-text property).
 *
 * In picking mode (neuron methods) a click, as opposed to a drag, emits
 *   picked (double photo_x, double photo_y)
 * and a marker (a rectangle in photo pixels) can be drawn over the photo.
 */
#pragma once

#include <gtk/gtk.h>
#include "viz.h"
#include "heatlens-photo.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_IMAGE_VIEW (hl_image_view_get_type ())
G_DECLARE_FINAL_TYPE (HlImageView, hl_image_view, HL, IMAGE_VIEW, GtkWidget)

GtkWidget          *hl_image_view_new          (void);
void                hl_image_view_set_photo    (HlImageView          *self,
                                                HlPhoto              *photo);
HlPhoto            *hl_image_view_get_photo    (HlImageView          *self);
/* Where the model input sits in the photo; NULL = unknown (no dimming). */
void                hl_image_view_set_crop_map (HlImageView          *self,
                                                const hl_crop_map    *map);
const hl_crop_map  *hl_image_view_get_crop_map (HlImageView          *self);
void                hl_image_view_set_result   (HlImageView          *self,
                                                HlResult             *result);
HlResult           *hl_image_view_get_result   (HlImageView          *self);
void                hl_image_view_set_options  (HlImageView          *self,
                                                const hl_viz_options *options);
/* The map normalised with the current sign/outlier (NULL without result). */
const hl_viz_norm  *hl_image_view_get_norm     (HlImageView          *self);
/* The overlay picture drawn now (a new texture each time the map or the
 * options change), or NULL. */
GdkTexture         *hl_image_view_get_overlay  (HlImageView          *self);
/* Why the overlay cannot be drawn with these options, or NULL. */
const char         *hl_image_view_get_problem  (HlImageView          *self);

void                hl_image_view_zoom         (HlImageView          *self,
                                                double                factor);
void                hl_image_view_zoom_fit     (HlImageView          *self);
void                hl_image_view_pan          (HlImageView          *self,
                                                double                dx,
                                                double                dy);
double              hl_image_view_get_zoom     (HlImageView          *self);
const char         *hl_image_view_get_hover_text (HlImageView        *self);
/* The value text for a photo pixel, or NULL outside the map. */
char               *hl_image_view_describe_pixel (HlImageView        *self,
                                                  double              photo_x,
                                                  double              photo_y);

/* The photo pixel under the pointer while hover-text is set. */
gboolean            hl_image_view_get_hover_point (HlImageView       *self,
                                                   double            *photo_x,
                                                   double            *photo_y);
void                hl_image_view_set_picking  (HlImageView          *self,
                                                gboolean              picking);
gboolean            hl_image_view_get_picking  (HlImageView          *self);
/* NULL hides the marker. */
void                hl_image_view_set_marker   (HlImageView          *self,
                                                const graphene_rect_t *photo_rect);
gboolean            hl_image_view_get_marker   (HlImageView          *self,
                                                graphene_rect_t      *photo_rect);

/* The label of the dimmed frame around the model's crop (the part of the
 * photo the model does not see), as the report names it. */
#define HL_IMAGE_VIEW_OUTSIDE_LABEL "outside the model's view"
/* Where that label is drawn: the widest band of the frame on screen
 * (vertical: a left or right band, the text turned); FALSE when the photo
 * is the model's input or no band has room for a line. */
gboolean hl_image_view_get_outside_label (HlImageView     *self,
                                          graphene_rect_t *band,
                                          gboolean        *vertical);

G_END_DECLS
