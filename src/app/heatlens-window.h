/* HlWindow: one photo, one model, one method at a time.
 *
 * Properties (notify:: on change): photo (HlPhoto), classifier
 * (HlClassifier, read-only: set by hl_window_open_model), method (a Captum
 * name), target (class index, -1 before a prediction), busy (the worker is
 * computing, read-only).
 *
 * Everything the user can do is a window action (see
 * heatlens-window-actions.c), which is also how the tests drive it.
 * Signals for observers (tests, --screenshot):
 *   prediction-shown ()           top-5 of a new photo/model are shown
 *   result-shown     (HlResult *) a result (computed or cached) is shown
 *   estimate-shown   (HlResult *) an estimate of the running request is
 *                                 shown in its place (refining)
 *   error-shown      (char *)     the banner shows an error
 */
#pragma once

#include <gtk/gtk.h>
#include "heatlens-classifier.h"
#include "heatlens-compare-grid.h"
#include "heatlens-trust-bar.h"
#include "heatlens-image-view.h"
#include "heatlens-param-panel.h"
#include "heatlens-photo.h"
#include "heatlens-result-cache.h"
#include "heatlens-worker.h"

G_BEGIN_DECLS

#define HL_TYPE_WINDOW (hl_window_get_type ())
G_DECLARE_FINAL_TYPE (HlWindow, hl_window, HL, WINDOW, GtkApplicationWindow)

HlWindow      *hl_window_new              (GtkApplication *application);

void           hl_window_open_image       (HlWindow       *self,
                                           GFile          *file);
void           hl_window_open_model       (HlWindow       *self,
                                           const char     *path);
gboolean       hl_window_set_method       (HlWindow       *self,
                                           const char     *method,
                                           GError        **error);
/* "n-steps", "200" (any attr parameter, as on the CLI). */
gboolean       hl_window_set_param        (HlWindow       *self,
                                           const char     *name,
                                           const char     *value,
                                           GError        **error);
/* mode | sign | outlier | cmap | alpha */
gboolean       hl_window_set_overlay      (HlWindow       *self,
                                           const char     *key,
                                           const char     *value,
                                           GError        **error);
void           hl_window_set_target       (HlWindow       *self,
                                           int             target);
/* Neuron methods: picks the layer cell under a photo pixel, as a click
 * on the image does (the channel as HlParamPanel says). */
void           hl_window_pick_neuron      (HlWindow       *self,
                                           double          photo_x,
                                           double          photo_y);
/* Starts the computation now (cached results show at once). */
void           hl_window_run              (HlWindow       *self);
/* Esc: stops the run (and one about to start); the caption says
 * "Cancelled" until a result for the panel's choice is on screen. */
void           hl_window_cancel           (HlWindow       *self);
gboolean       hl_window_get_cancelled    (HlWindow       *self);
void           hl_window_show_error       (HlWindow       *self,
                                           const char     *message);
/* Renders the window as it is now into a PNG. */
gboolean       hl_window_save_screenshot  (HlWindow       *self,
                                           const char     *path,
                                           GError        **error);

HlWorker      *hl_window_get_worker       (HlWindow       *self);
/* Cancels every engine job of the window (explain, classify, the Trust
 * page's evaluation) and waits, iterating the main context, until their
 * threads have returned (application shutdown). */
void           hl_window_stop_jobs        (HlWindow       *self);
HlResultCache *hl_window_get_cache        (HlWindow       *self);
/* The last finished result (what exports use), and the estimate shown in
 * its place while refining or after a cancel (NULL when none). */
HlResult      *hl_window_get_result       (HlWindow       *self);
HlResult      *hl_window_get_estimate     (HlWindow       *self);
HlClassifier  *hl_window_get_classifier   (HlWindow       *self);
HlImageView   *hl_window_get_image_view   (HlWindow       *self);
HlCompareGrid *hl_window_get_compare_grid (HlWindow       *self);
/* The line under the picture: notice and convergence delta. */
HlTrustBar    *hl_window_get_trust_bar    (HlWindow       *self);
/* How the attribution is drawn now (the overlay panel's options). */
const hl_viz_options *hl_window_get_overlay_options (HlWindow *self);
HlParamPanel  *hl_window_get_param_panel  (HlWindow       *self);
/* The banner's text, NULL when hidden. */
const char    *hl_window_get_error        (HlWindow       *self);
int            hl_window_get_target       (HlWindow       *self);
gboolean       hl_window_get_busy         (HlWindow       *self);
HlPhoto       *hl_window_get_photo        (HlWindow       *self);
const char    *hl_window_get_method       (HlWindow       *self);

/* The export dialog's file name: "PHOTO-METHOD-CLASS.png" for the
 * result shown, "PHOTO-N_methods-CLASS-compare.png" for the comparison. */
char *hl_window_export_name (HlWindow   *self,
                             gboolean    comparison,
                             const char *suffix);

G_END_DECLS
