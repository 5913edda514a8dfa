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

/* Fill a request: Captum's defaults (or `defaults` when non-NULL), then
 * the recorded options, validated against the method and the model, then
 * hl_attr_request_prepare (the default layer, the files read). An option
 * the method does not use is an error naming the ones it does use.
 * Returns 0 (clear r when done) or 1 (printed; r is empty). */
int cli_method_request(const cli_method_options *o, const hl_method_desc *m,
                       const cli_input *in, const hl_attr_params *defaults,
                       hl_attr_request *r);

/* Check that `name` is a node or value of the model; on failure print a
 * one-line error with some valid names and return 1. */
int cli_check_layer(const hl_model *model, const char *name);

/* "n-steps=200 ig-method=gausslegendre ..." for the method's parameters. */
void cli_format_params(const hl_method_desc *m, const hl_attr_params *p,
                       char *buf, size_t size);

/* The photo behind a preprocessed tensor ([1,3,H,W] -> RGB), for drawing
 * overlays when the input came from --input-npy. NULL if not 3 channels. */
hl_image *cli_image_from_input(const hl_array *input, const hl_preprocess *pre);

/* Install a SIGINT handler that raises the returned flag (for
 * hl_attr_context.cancel); a second Ctrl-C kills as usual. */
const volatile int *cli_cancel_flag(void);

#endif
