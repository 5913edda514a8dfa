/* Shared by heatlens-window.c, heatlens-window-actions.c and
 * heatlens-window-dnd.c. */
#pragma once

#include "heatlens-window.h"
#include "heatlens-overlay-panel.h"
#include "heatlens-param-panel.h"
#include "heatlens-photo.h"
#include "heatlens-prediction.h"
#include "heatlens-target-picker.h"

G_BEGIN_DECLS

struct _HlWindow
{
  GtkApplicationWindow  parent_instance;

  /* template children */
  GtkLabel             *title_label;
  GtkLabel             *subtitle_label;
  GtkPopover           *samples_popover;
  GtkFlowBox           *samples_flow;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  HlTargetPicker       *target_picker;
  HlParamPanel         *param_panel;
  HlOverlayPanel       *overlay_panel;
  GtkStack             *view_stack;
  HlImageView          *image_view;
  GtkWidget            *empty_state;
  HlCompareGrid        *compare_grid;
  GtkLabel             *result_label;
  GtkLabel             *status_label;
  GtkProgressBar       *progress_bar;
  GtkWidget            *cancel_button;
  GtkWidget            *run_button;

  /* state */
  GSettings            *settings;
  HlClassifier         *classifier;
  HlPhoto              *photo;
  HlPrediction         *prediction;   /* for (photo, classifier), or NULL */
  HlResult             *result;       /* shown */
  HlWorker             *worker;
  HlResultCache        *cache;
  GCancellable         *load_cancellable;  /* fresh per photo/model load */
  GCancellable         *probe_cancellable; /* the neuron click being resolved */
  char                 *error_text;
  char                 *result_status;
  guint                 run_source;        /* debounce of parameter changes */
  guint                 elapsed_source;    /* progress label while busy */
  gboolean              run_pending;       /* run once the prediction is in */
  gboolean              samples_loaded;
  gboolean              model_loading;     /* a model load is under way */
};

/* heatlens-window-actions.c */
void hl_window_init_actions       (HlWindow *self);
void hl_window_update_actions     (HlWindow *self);

/* heatlens-window-dnd.c */
void hl_window_init_dnd           (HlWindow *self);
void hl_window_paste              (HlWindow *self);
void hl_window_set_photo          (HlWindow *self,
                                   HlPhoto  *photo);
void hl_window_samples_popover_show_cb (HlWindow      *self);
void hl_window_sample_activated_cb     (HlWindow      *self,
                                        GtkFlowBoxChild *child);

/* heatlens-window-neuron.c */
void hl_window_init_neuron        (HlWindow *self);
/* Picking mode and marker from the method, layer and neuron shown. */
void hl_window_update_neuron      (HlWindow *self);
/* When the neuron is still the panel's default (channel 0 at the layer's
 * centre, often silent), looks up the strongest channel there and runs
 * once it is set; TRUE = the run waits for it. */
gboolean hl_window_resolve_default_neuron (HlWindow *self);
/* "click to pick the neuron at H,W = 3,4" under the pointer, or NULL. */
char    *hl_window_neuron_hint        (HlWindow *self);

/* heatlens-window-teaching.c */
void hl_window_init_teaching      (HlWindow *self);

/* heatlens-window.c */
void hl_window_schedule_run       (HlWindow *self);
/* The colour bar's scale for the page shown. */
void hl_window_update_colorbar    (HlWindow *self);
/* Export helpers used by actions and tests; errors go to the banner. */
gboolean hl_window_export_view    (HlWindow    *self,
                                   const char  *path,
                                   GError     **error);
gboolean hl_window_export_grid    (HlWindow    *self,
                                   const char  *path,
                                   GError     **error);
gboolean hl_window_save_npy       (HlWindow    *self,
                                   const char  *path,
                                   GError     **error);
void     hl_window_copy_view      (HlWindow    *self);

G_END_DECLS
