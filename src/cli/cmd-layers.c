/* heatlens-cli layers: every node with its op, output value and shape. */
#include <string.h>

#include "cli-commands.h"
#include "cli-options.h"

static void layers_help(void)
{
    printf("Usage: %s layers [--model FILE.onnx] [--json]\n"
           "\n"
           "List the nodes of a model in the order they run (after load-time\n"
           "folding): node name, op, output value name and its shape at batch 1.\n"
           "Any node or output name can be given to explain --layer.\n"
           "\n"
           "Options:\n"
           "  --model FILE.onnx      the classifier (default: the bundled MobileNet V2)\n"
           "  --json                 print JSON instead of a table\n"
           "  --help                 this text\n", CLI_PROG);
}

int cmd_layers(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        layers_help();
        return 0;
    }
    cli_input in;
    cli_input_init(&in);
    int json = 0, status = 1;
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        if (strcmp(a.name, "model") == 0) {
            if (!(in.model_path = cli_args_value(&a)))
                goto out;
        } else if (strcmp(a.name, "json") == 0) {
            json = 1;
        } else {
            cli_fail("layers: unknown option '%s'; valid: --model, --json, --help",
                     a.word);
            goto out;
        }
    }
    if (r < 0 || cli_input_load_model(&in))
        goto out;

    int n = hl_model_num_nodes(in.model);
    /* Column widths from the longest names (ONNX names can be long). */
    int name_w = 4, op_w = 2, out_w = 6;
    for (int i = 0; i < n; i++) {
        hl_node_info info;
        hl_model_node_info(in.model, i, &info);
        const char *output = hl_model_value_name(in.model, info.output);
        int l = (int)strlen(info.name);
        name_w = l > name_w ? l : name_w;
        l = (int)strlen(info.op);
        op_w = l > op_w ? l : op_w;
        l = output ? (int)strlen(output) : 0;
        out_w = l > out_w ? l : out_w;
    }
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, hl_model_name(in.model));
        printf(", \"nodes\": [");
    } else {
        printf("%-4s %-*s  %-*s  %-*s  %s\n", "#", name_w, "node", op_w, "op",
               out_w, "output", "shape");
    }
    for (int i = 0; i < n; i++) {
        hl_node_info info;
        char shape[128];
        hl_model_node_info(in.model, i, &info);
        hl_shape_format(&info.shape, shape, sizeof shape);
        const char *output = hl_model_value_name(in.model, info.output);
        if (json) {
            printf("%s\n  {\"index\": %d, \"name\": ", i ? "," : "", i);
            cli_json_string(stdout, info.name);
            printf(", \"op\": ");
            cli_json_string(stdout, info.op);
            printf(", \"output\": ");
            cli_json_string(stdout, output);
            printf(", \"shape\": [");
            for (int d = 0; d < info.shape.ndim; d++)
                printf("%s%lld", d ? ", " : "", (long long)info.shape.dims[d]);
            printf("]}");
        } else {
            printf("%-4d %-*s  %-*s  %-*s  %s\n", i, name_w, info.name, op_w,
                   info.op, out_w, output ? output : "", shape);
        }
    }
    if (json)
        printf("\n]}\n");
    status = 0;
out:
    cli_input_clear(&in);
    return status;
}
