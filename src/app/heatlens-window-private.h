/* HlWindow's instance struct and the functions its files share (the
 * private-header pattern of gnome-text-editor's editor-window-*.c). */
#pragma once

#include "heatlens-window.h"
#include "heatlens-overlay-panel.h"
#include "heatlens-param-panel.h"
#include "heatlens-photo.h"
#include "heatlens-prediction.h"
#include "heatlens-target-picker.h"
#include "heatlens-trust-bar.h"

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
  gboolean              cancelled;   /* the last request was cancelled: the picture is older */
  HlOverlayPanel       *overlay_panel;
  GtkStack             *view_stack;
  HlImageView          *image_view;
  GtkWidget            *empty_state;
  HlCompareGrid        *compare_grid;
  HlTrustBar           *trust_bar;    /* notice and delta under the picture */
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
  HlResult             *result;       /* the last finished result */
  HlResult             *estimate;     /* an estimate shown in its place while
                                         refining (or cancelled), else NULL */
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
  /* the overlay's sign and colormap: the method's (hl_viz_method_defaults)
   * until the user chooses one, then the user's (heatlens-window-trust.c) */
  gboolean              sign_chosen;
  gboolean              cmap_chosen;
  gboolean              applying_defaults;
  hl_viz_options        seen_opts;         /* the overlay last seen */
};

/* The window's properties (heatlens-window.c). */
typedef enum
{
  HL_WINDOW_PROP_0,
  HL_WINDOW_PROP_PHOTO,
  HL_WINDOW_PROP_CLASSIFIER,
  HL_WINDOW_PROP_METHOD,
  HL_WINDOW_PROP_TARGET,
  HL_WINDOW_PROP_BUSY,
  HL_WINDOW_N_PROPS
} HlWindowProp;

/* heatlens-window.c */
void hl_window_notify             (HlWindow     *self,
                                   HlWindowProp  prop);
void hl_window_hide_error         (HlWindow     *self);

/* heatlens-window-flow.c */
void hl_window_init_flow          (HlWindow *self);
void hl_window_schedule_run       (HlWindow *self);
void hl_window_update_titles      (HlWindow *self);
/* The status line: hover text, neuron hint, or the shown result's. */
void hl_window_update_status      (HlWindow *self);
/* The colour bar's scale for the page shown. */
void hl_window_update_colorbar    (HlWindow *self);
/* user_data for async callbacks: the window held weakly; _take returns
 * a new reference (or NULL when the window is gone) and frees the ref. */
GWeakRef *hl_window_weak_ref      (HlWindow *self);
HlWindow *hl_window_weak_ref_take (gpointer  user_data);

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

/* heatlens-window-teaching.c */
void hl_window_init_teaching      (HlWindow *self);
/* Picking mode and marker from the method, layer and neuron shown. */
void hl_window_update_neuron      (HlWindow *self);
/* When the neuron is still the panel's default (channel 0 at the layer's
 * centre, often silent), looks up the strongest channel there and runs
 * once it is set; TRUE = the run waits for it. */
gboolean hl_window_resolve_default_neuron (HlWindow *self);
/* "click to pick the neuron at H,W = 3,4" under the pointer, or NULL. */
char    *hl_window_neuron_hint        (HlWindow *self);

/* heatlens-window-trust.c */
/* The method's sign and colormap where the user has not chosen. */
void     hl_window_apply_method_defaults (HlWindow *self);
/* The overlay changed: a sign or colormap that differs from the last one
 * seen, not set by hl_window_apply_method_defaults, is the user's choice.
 * TRUE when the user changed the mode (the defaults depend on it). */
gboolean hl_window_note_overlay_choice   (HlWindow *self);
/* Restored settings: a saved sign / colormap is a choice (none = ""). */
void     hl_window_restore_overlay_choice (HlWindow *self,
                                           gboolean  sign_chosen,
                                           gboolean  cmap_chosen);

/* heatlens-window-metrics.c: the "Trust" page (HlMetricsPanel) */
typedef struct _HlMetricsPanel HlMetricsPanel;
void            hl_window_init_metrics      (HlWindow *self);
HlMetricsPanel *hl_window_get_metrics_panel (HlWindow *self);
/* The Trust page is the one shown (exports then include its plots). */
gboolean        hl_window_metrics_shown     (HlWindow *self);

/* heatlens-window-export.c */
char    *hl_window_result_title   (HlResult    *result);
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
