/* Overlay options of explain and report, parsed once. */
#include "cli-viz.h"

#include <string.h>

int cli_viz_option(cli_viz *v, cli_args *a)
{
    const char **slot = NULL;
    if (strcmp(a->name, "viz") == 0)
        slot = &v->mode;
    else if (strcmp(a->name, "sign") == 0)
        slot = &v->sign;
    else if (strcmp(a->name, "cmap") == 0)
        slot = &v->cmap;
    else if (strcmp(a->name, "outlier-perc") == 0)
        slot = &v->outlier;
    else if (strcmp(a->name, "alpha") == 0)
        slot = &v->alpha;
    if (!slot)
        return 0;
    return (*slot = cli_args_value(a)) ? 1 : -1;
}

int cli_viz_given(const cli_viz *v)
{
    return v->mode || v->sign || v->cmap || v->outlier || v->alpha;
}

int cli_viz_resolve(const cli_viz *v, hl_viz_mode mode, hl_viz_options *o)
{
    hl_error err = {0};
    hl_viz_options_init(o);
    o->mode = mode;
    if (v->mode && hl_viz_mode_from_name(v->mode, &o->mode, &err) != HL_OK)
        return cli_fail("--viz: %s", err.msg);
    if (v->sign && hl_viz_sign_from_name(v->sign, &o->sign, &err) != HL_OK)
        return cli_fail("--sign: %s", err.msg);
    if (v->cmap && hl_colormap_from_name(v->cmap, &o->cmap, &err) != HL_OK)
        return cli_fail("--cmap: %s", err.msg);
    double d;
    if (v->outlier) {
        if (!cli_parse_double("outlier-perc", v->outlier, 0, 100, &d))
            return 1;
        o->outlier_perc = d;
    }
    if (v->alpha) {
        if (!cli_parse_double("alpha", v->alpha, 0, 1, &d))
            return 1;
        o->alpha_overlay = d;
    }
    if (hl_viz_check(NULL, o, &err) != HL_OK)
        return cli_fail("--viz/--sign: %s", err.msg);
    return 0;
}

hl_viz_options cli_viz_for_method(const cli_viz *v, const hl_viz_options *o,
                                  const char *method)
{
    hl_viz_options out = *o;
    hl_viz_sign sign;
    hl_colormap_id cmap;
    hl_viz_method_defaults(method, o->mode, &sign, &cmap);
    if (!v->sign)
        out.sign = sign;
    if (!v->cmap)
        out.cmap = cmap;
    return out;
}
