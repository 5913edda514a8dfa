/* The overlay options explain and report share (--viz, --sign, --cmap,
 * --outlier-perc, --alpha): recorded as typed, then resolved into
 * hl_viz_options and checked by viz's one validity rule (hl_viz_check). */
#ifndef HL_CLI_VIZ_H
#define HL_CLI_VIZ_H

#include "cli-options.h"
#include "viz.h"

typedef struct cli_viz {
    const char *mode, *sign, *cmap, *outlier, *alpha;
} cli_viz;

/* If the current option is one of the five, record it and return 1; 0 if
 * not one of them; -1 on error (printed). */
int cli_viz_option(cli_viz *v, cli_args *a);

/* Was any of them given? */
int cli_viz_given(const cli_viz *v);

/* Captum's defaults with `mode`, then the options; 0, or 1 (printed). */
int cli_viz_resolve(const cli_viz *v, hl_viz_mode mode, hl_viz_options *o);

/* The resolved options o for `method`: the library's sign and colormap for
 * it (hl_viz_method_defaults) where --sign / --cmap were not given. */
hl_viz_options cli_viz_for_method(const cli_viz *v, const hl_viz_options *o,
                                  const char *method);

#endif
