/* HlParamPanel's instance struct and what its two files share:
 * heatlens-param-panel.c (the method list, the parameters' state and
 * defaults, the API) and heatlens-param-panel-widgets.c (one widget per
 * descriptor of the chosen method). */
#pragma once

#include "heatlens-param-panel.h"

G_BEGIN_DECLS

struct _HlParamPanel
{
  GtkWidget       parent_instance;

  GtkWidget      *box;
  GtkDropDown    *method_dropdown;
  GtkLabel       *description_label;
  GtkGrid        *param_grid;
  GtkGrid        *advanced_grid;
  GtkWidget      *advanced_expander;
  guint           rebuild_source;
  guint           changed_source; /* a number edit settling */

  GtkStringList  *methods;        /* Captum names, grouped order */
  HlClassifier   *classifier;
  GPtrArray      *layer_names;    /* node names of the classifier */
  GtkStringList  *layer_labels;   /* "name  op [shape]" */
  int             default_layer;  /* index into layer_names or -1 */
  gboolean        layer_is_default; /* filled in here, not chosen by the user */
  hl_attr_params  params;
  char           *params_method;  /* the method params' defaults are for */
  gboolean        building;       /* widgets being filled: no "changed" */
  gboolean        pick_strongest; /* a click on the photo takes the strongest channel */
  gboolean        neuron_is_default; /* filled in here, not chosen by the user */
};

/* heatlens-param-panel.c */
void     hl_param_panel_emit_changed        (HlParamPanel        *self);
void     hl_param_panel_emit_changed_later  (HlParamPanel        *self);
void     hl_param_panel_emit_invalid        (HlParamPanel        *self,
                                             const hl_error      *err);
/* Every widget writes through the library's parser (hl_param_set), so the
 * window accepts exactly what the CLI accepts; FALSE = "invalid" emitted. */
gboolean hl_param_panel_apply_text          (HlParamPanel        *self,
                                             const hl_param_desc *d,
                                             const char          *text);
gboolean hl_param_panel_store_text          (HlParamPanel        *self,
                                             const hl_param_desc *d,
                                             const char          *text);
/* Rebuild the widgets once the signal being handled is over. */
void     hl_param_panel_queue_rebuild       (HlParamPanel        *self);
void     hl_param_panel_neuron_follow_layer (HlParamPanel        *self);
/* Upper bounds of a neuron index (C, H, W) from the chosen layer's shape. */
void     hl_param_panel_neuron_limits       (HlParamPanel        *self,
                                             double               max[3]);

/* heatlens-param-panel-widgets.c */
/* The chosen method's widgets, from the descriptor table. */
void     hl_param_panel_rebuild             (HlParamPanel        *self);

G_END_DECLS
