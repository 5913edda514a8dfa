/* Notices and the delta's meaning in the CLI's outputs (cli-trust.h). */
#include <math.h>
#include <string.h>

#include "cli-options.h"
#include "cli-trust.h"

void cli_print_notices(const hl_model *model, const char *method,
                       const hl_attr_params *p, const hl_attr_result *r)
{
    hl_notices n;
    hl_attr_notices(model, method, p, r, &n);
    for (int i = 0; i < n.n; i++)
        fprintf(stderr, "%s: note: %s: %s\n", CLI_PROG, method, n.line[i]);
}

void cli_json_trust(FILE *f, const hl_model *model, const char *method,
                    const hl_attr_params *p, const hl_attr_result *r)
{
    hl_notices n;
    hl_attr_notices(model, method, p, r, &n);
    fprintf(f, ", \"notices\": [");
    for (int i = 0; i < n.n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        cli_json_string(f, n.line[i]);
    }
    fprintf(f, "]");
    if (!r || !r->has_delta || !isfinite(r->delta))
        return;
    char note[512];
    int large = hl_attr_delta_note(method, r, note, sizeof note);
    double rel = hl_attr_delta_relative(r);
    fprintf(f, ", \"delta\": %.6g, \"delta_reference\": %.6g", r->delta,
            r->delta_reference);
    if (isfinite(rel))
        fprintf(f, ", \"delta_relative\": %.6g", rel);
    fprintf(f, ", \"delta_large\": %s, \"delta_note\": ", large > 0 ? "true" : "false");
    cli_json_string(f, note);
}

void cli_print_delta(const char *method, const hl_attr_result *r)
{
    char note[512];
    if (hl_attr_delta_note(method, r, note, sizeof note) >= 0)
        printf("delta:       %s\n", note);
}

const char *cli_panel_notice(const hl_model *model, const char *method,
                             const hl_attr_params *p, const hl_attr_result *r,
                             char *buf, size_t size)
{
    hl_notices n;
    hl_attr_notices(model, method, p, r, &n);
    buf[0] = '\0';
    if (n.n) {
        snprintf(buf, size, "%s", n.brief[0]);
    } else if (r && r->has_delta) {
        char note[512];
        if (hl_attr_delta_note(method, r, note, sizeof note) > 0) {
            const char *hint = strstr(note, "large, ");
            snprintf(buf, size, "delta %.0f%% of F(x) - F(baseline)%s%s",
                     100.0 * hl_attr_delta_relative(r), hint ? ": " : "",
                     hint ? hint + 7 : "");
        }
    }
    return buf;
}
