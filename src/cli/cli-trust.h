/* The trust notices and the convergence delta's meaning as the CLI shows
 * them (explain, evaluate, report): notes on stderr, fields in --json. */
#ifndef HL_CLI_TRUST_H
#define HL_CLI_TRUST_H

#include <stdio.h>

#include "trust.h"

/* "heatlens-cli: note: ..." on stderr for each notice of (model, method)
 * and its result r. */
void cli_print_notices(const hl_model *model, const char *method,
                       const hl_attr_params *p, const hl_attr_result *r);

/* `, "notices": [...]` and, with a delta, `, "delta": D,
 * "delta_reference": R, "delta_relative": X, "delta_large": B,
 * "delta_note": "..."` for a JSON object being written to f. */
void cli_json_trust(FILE *f, const hl_model *model, const char *method,
                    const hl_attr_params *p, const hl_attr_result *r);

/* "delta:       <note>" line for the plain-text output, if any. */
void cli_print_delta(const char *method, const hl_attr_result *r);

/* One short line under a report's picture: the notice's brief form, or,
 * when the delta is large, "delta 27% of F(x) - F(baseline): raise
 * --n-steps"; "" when there is nothing to say. Returns buf. */
const char *cli_panel_notice(const hl_model *model, const char *method,
                             const hl_attr_params *p, const hl_attr_result *r,
                             char *buf, size_t size);

#endif
