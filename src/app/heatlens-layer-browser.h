/* HlLayerBrowser: what a layer sees. Pick a layer of the model; its
 * channels' activation maps on the photo are shown as a grid over the
 * photo, strongest first (hl_layer_channels_compute, in a thread). Clicking
 * a channel emits channel-activated with the layer and the cell where that
 * channel is strongest, for a neuron method on it.
 *
 * Signals:
 *   ready ()                                       the grid is filled (or failed)
 *   channel-activated (char *layer, int c, int h, int w)
 */
#pragma once

#include <gtk/gtk.h>
#include "layer_channels.h"
#include "heatlens-classifier.h"
#include "heatlens-prediction.h"

G_BEGIN_DECLS

#define HL_TYPE_LAYER_BROWSER (hl_layer_browser_get_type ())
G_DECLARE_FINAL_TYPE (HlLayerBrowser, hl_layer_browser, HL, LAYER_BROWSER, GtkWindow)

/* How many of the strongest channels the grid shows. */
#define HL_LAYER_BROWSER_MAX_CHANNELS 40

/* layer: the layer to show first, or NULL for the default layer of layer
 * methods (hl_default_layer). */
HlLayerBrowser          *hl_layer_browser_new          (GtkWindow      *parent,
                                                        HlClassifier   *classifier,
                                                        HlPrediction   *prediction,
                                                        const char     *layer);
gboolean                 hl_layer_browser_set_layer    (HlLayerBrowser *self,
                                                        const char     *layer);
const char              *hl_layer_browser_get_layer    (HlLayerBrowser *self);
/* NULL until ready. */
const hl_layer_channels *hl_layer_browser_get_channels (HlLayerBrowser *self);
const char              *hl_layer_browser_get_error    (HlLayerBrowser *self);
/* As a click on the grid's rank-th tile (0 = strongest). */
void                     hl_layer_browser_activate     (HlLayerBrowser *self,
                                                        int             rank);

G_END_DECLS
