/* Textures for the teaching views: a model input as a picture, and a map
 * (gradient, attribution, activation) coloured by viz's Captum rules,
 * optionally blended over a picture of the same crop. */
#pragma once

#include <gtk/gtk.h>
#include "engine.h"
#include "image.h"
#include "preprocess.h"
#include "viz.h"
#include "heatlens-prediction.h"

G_BEGIN_DECLS

GdkTexture *hl_texture_new_from_image  (const hl_image      *image);
/* input: [C,H,W] model input floats. */
GdkTexture *hl_texture_new_from_input  (const hl_preprocess *pp,
                                        const float         *input,
                                        int                  width,
                                        int                  height);
/* map: [1,C,h,w] (summed over channels, normalised with the sign and 2%
 * outliers); under: the picture to blend over (blended_heat_map) or NULL
 * (heat_map). The texture is width x height. NULL with error when the map
 * cannot be normalised; an all-zero map is drawn as zeros. */
GdkTexture *hl_texture_new_from_map    (const float         *map,
                                        const hl_shape      *shape,
                                        hl_viz_sign          sign,
                                        const hl_image      *under,
                                        int                  width,
                                        int                  height,
                                        GError             **error);

/* The photo as the model sees it (the prediction's crop), for blending. */
hl_image   *hl_texture_crop_image      (const HlPrediction  *prediction);

/* Renders any widget as it is now into a PNG (the teaching views'
 * --screenshot). */
gboolean    hl_widget_save_png         (GtkWidget           *widget,
                                        const char          *path,
                                        GError             **error);

G_END_DECLS
