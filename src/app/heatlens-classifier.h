/* HlClassifier: a loaded ONNX model with its preprocessing and labels.
 * Immutable after loading, so worker threads may use it while they hold a
 * reference. */
#pragma once

#include <gio/gio.h>
#include "engine.h"
#include "preprocess.h"

G_BEGIN_DECLS

#define HL_TYPE_CLASSIFIER (hl_classifier_get_type ())
G_DECLARE_FINAL_TYPE (HlClassifier, hl_classifier, HL, CLASSIFIER, GObject)

/* Loads in a thread (parsing a model takes a noticeable moment). */
void          hl_classifier_load_async  (const char          *path,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
HlClassifier *hl_classifier_load_finish (GAsyncResult        *result,
                                         GError             **error);
HlClassifier *hl_classifier_load        (const char          *path,
                                         GError             **error);

const hl_model      *hl_classifier_get_model      (HlClassifier *self);
const hl_preprocess *hl_classifier_get_preprocess (HlClassifier *self);
const char          *hl_classifier_get_path       (HlClassifier *self);
const char          *hl_classifier_get_name       (HlClassifier *self);
int                  hl_classifier_get_n_classes  (HlClassifier *self);
const char          *hl_classifier_get_label      (HlClassifier *self,
                                                   int           index);
/* The label's first synonym ("dragonfly" for "dragonfly, darning needle,
 * ..."): what the window shows, with the full label as a tooltip. */
const char          *hl_classifier_get_short_label (HlClassifier *self,
                                                    int           index);
/* Unique per load: part of the result cache key. */
guint                hl_classifier_get_serial     (HlClassifier *self);

G_END_DECLS
