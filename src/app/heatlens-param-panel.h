/* HlParamPanel: the method dropdown (grouped, one-line descriptions) and
 * the chosen method's parameters, built from attr's descriptor table
 * (hl_method_desc.params + hl_param_desc): ranges and Captum's defaults
 * come from the library, nothing per method is hard-coded here. The layer
 * picker lists the model's nodes with their output shapes.
 * Properties: method (the Captum name chosen), classifier (the model whose
 * layers are offered; HlWindow binds its own "classifier" to it).
 * Emits "changed" whenever the method or a parameter changes, "invalid"
 * (GError) when a value is refused. */
#pragma once

#include <gtk/gtk.h>
#include "attr.h"
#include "heatlens-classifier.h"

G_BEGIN_DECLS

#define HL_TYPE_PARAM_PANEL (hl_param_panel_get_type ())
G_DECLARE_FINAL_TYPE (HlParamPanel, hl_param_panel, HL, PARAM_PANEL, GtkWidget)

GtkWidget            *hl_param_panel_new            (void);
void                  hl_param_panel_set_classifier (HlParamPanel  *self,
                                                     HlClassifier  *classifier);
const char           *hl_param_panel_get_method     (HlParamPanel  *self);
gboolean              hl_param_panel_set_method     (HlParamPanel  *self,
                                                     const char    *name,
                                                     GError       **error);
/* The next (step 1) or previous (-1) method in the list, wrapping. */
void                  hl_param_panel_step_method    (HlParamPanel  *self,
                                                     int            step);
/* All parameters (target excluded: see HlTargetPicker). */
const hl_attr_params *hl_param_panel_get_params     (HlParamPanel  *self);
/* "n-steps", "200": parsed by the library, widgets updated. */
gboolean              hl_param_panel_set_param      (HlParamPanel  *self,
                                                     const char    *name,
                                                     const char    *value,
                                                     GError       **error);
 /* Neuron methods: whether a click on the photo also picks the channel
 * with the largest activation there (a check box under the neuron). */
gboolean              hl_param_panel_get_pick_strongest (HlParamPanel *self);
/* The neuron is the panel's own default (the layer's centre, channel 0),
 * not one the user chose. */
gboolean              hl_param_panel_get_neuron_is_default (HlParamPanel *self);
/* Number fields ("+" clicks, keystrokes) emit "changed" once, after the
 * edits have settled this long; TRUE while such an edit is waiting. */
#define HL_PARAM_PANEL_SETTLE_MS 350
gboolean              hl_param_panel_get_settling   (HlParamPanel  *self);
void                  hl_param_panel_reset          (HlParamPanel  *self);
/* "n-steps=50, ig-method=gausslegendre" for captions and metadata. */
char                 *hl_param_panel_describe       (const char           *method,
                                                     const hl_attr_params *params);

G_END_DECLS
