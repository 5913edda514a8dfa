/* Attribution-method options for explain and report, parsed generically
 * from attr's parameter descriptor table (hl_param_desc), plus target and
 * layer resolution against the loaded model. */
#ifndef HL_CLI_METHOD_H
#define HL_CLI_METHOD_H

#include <stdio.h>

#include "attr.h"
#include "cli-options.h"

#define CLI_MAX_METHOD_OPTIONS 64

/* Method options as typed, kept until the method is known (options may
 * come before --method). */
typedef struct cli_method_options {
    struct { const hl_param_desc *desc; const char *value; const char *word; }
        items[CLI_MAX_METHOD_OPTIONS];
    int n;
    const char *target;   /* "auto" | INDEX | NULL */
    const char *layer;    /* node or value name | NULL */
} cli_method_options;

/* If the current option is --target, --layer or a parameter of the table,
 * record it and return 1; 0 if not one of them; -1 on error. */
int cli_method_option(cli_method_options *o, cli_args *a);

/* Does the method take the parameter (a name of its params list)? */
int cli_method_uses(const hl_method_desc *m, const char *param);

/* The method by name, or a one-line error listing the valid names. */
const hl_method_desc *cli_method_lookup(const char *name);

/* Fill p: Captum's defaults (or `defaults` when non-NULL), then the
 * recorded options, validated against the method and the model. An option
 * the method does not use is an error naming the ones it does use.
 * `chosen_layer` receives the layer used ("" if none); a layer method
 * without --layer gets cli_auto_layer(). Returns 0 or 1 (printed). */
int cli_method_params(const cli_method_options *o, const hl_method_desc *m,
                      const cli_input *in, const hl_attr_params *defaults,
                      hl_attr_params *p);

/* Check that `name` is a node or value of the model; on failure print a
 * one-line error with some valid names and return 1. */
int cli_check_layer(const hl_model *model, const char *name);

/* A middle convolution for GradCAM-style methods: the Conv node closest to
 * the middle of the node list whose output is at least 7x7. Writes its
 * name into buf; returns 0, or -1 when the model has none. */
int cli_auto_layer(const hl_model *model, char *buf, size_t size);

/* "n-steps=200 ig-method=gausslegendre ..." for the method's parameters. */
void cli_format_params(const hl_method_desc *m, const hl_attr_params *p,
                       char *buf, size_t size);

/* An attribution ready to draw over the input: layer maps whose spatial
 * size differs from the input's are upsampled bilinearly (align_corners
 * false, like LayerAttribution.interpolate(..., 'bilinear')) to in_h x in_w.
 * Returns a new array, or NULL when out of memory / not 2-D-spatial. */
hl_array *cli_attr_for_display(const hl_array *attr, int in_h, int in_w);

/* The photo behind a preprocessed tensor ([1,3,H,W] -> RGB), for drawing
 * overlays when the input came from --input-npy. NULL if not 3 channels. */
hl_image *cli_image_from_input(const hl_array *input, const hl_preprocess *pre);

/* Install a SIGINT handler that raises the returned flag (for
 * hl_attr_context.cancel); a second Ctrl-C kills as usual. */
const volatile int *cli_cancel_flag(void);

#endif
