/* The picture half of `explain`, shared with `batch`: the overlay options
 * (--out --viz --sign --cmap --outlier-perc --alpha), their checks, and the
 * picture of one attribution over its photo with the run's metadata. */
#ifndef HL_CLI_EXPLAIN_H
#define HL_CLI_EXPLAIN_H

#include "attr.h"
#include "cli-options.h"
#include "cli-viz.h"
#include "viz.h"

/* Overlay options given on the command line, checked before any compute. */
typedef struct explain_viz {
    const char *out_path;
    cli_viz given;
    hl_viz_options opts;
} explain_viz;

/* If the current option is --out or one of cli-viz's overlay options,
 * record it and return 1; 0 if not one of them; -1 on error (printed). */
int explain_viz_option(explain_viz *v, cli_args *a);

/* Check the recorded options (they need out_path) and fill v->opts.
 * Returns 0, or 1 (printed). */
int explain_viz_resolve(explain_viz *v);

/* Draw the attribution over the photo (or the input tensor's picture) into
 * v->out_path, with the method, parameters, model, image, target and
 * probability as metadata. Returns 0, or 1 (printed). */
int explain_write_picture(const explain_viz *v, const cli_input *in,
                          const hl_method_desc *m, const hl_attr_params *p,
                          const hl_attr_result *res);

#endif
