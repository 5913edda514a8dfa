/* HlTargetPicker: the top-5 predictions with their probabilities, and a
 * searchable list of every label to explain any other class.
 * Property "target" (class index, -1 before any prediction): notified
 * whenever it changes (a pick, a new prediction's top-1). */
#pragma once

#include <gtk/gtk.h>
#include "heatlens-classifier.h"
#include "heatlens-prediction.h"

G_BEGIN_DECLS

#define HL_TYPE_TARGET_PICKER (hl_target_picker_get_type ())
G_DECLARE_FINAL_TYPE (HlTargetPicker, hl_target_picker, HL, TARGET_PICKER, GtkWidget)

GtkWidget *hl_target_picker_new            (void);
/* prediction NULL: clear (e.g. while a new photo is classified). The
 * target resets to the top-1. */
void       hl_target_picker_set_prediction (HlTargetPicker *self,
                                            HlClassifier   *classifier,
                                            HlPrediction   *prediction);
/* Class index, or -1 before any prediction. */
int        hl_target_picker_get_target     (HlTargetPicker *self);
void       hl_target_picker_set_target     (HlTargetPicker *self,
                                            int             target);

G_END_DECLS
