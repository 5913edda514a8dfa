/* heatlens-cli predict: top-k classes with their probabilities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "attr.h"
#include "cli-options.h"
#include "npy.h"

static void predict_help(void)
{
    printf("Usage: %s predict [--model FILE.onnx] (--image IMG | --input-npy X.npy)\n"
           "                    [--top K] [--json] [--raw OUT.npy] [--threads N]\n"
           "\n"
           "Run the classifier once and print the K most likely classes.\n"
           "\n"
           "Options:\n", CLI_PROG);
    cli_input_print_help(stdout, 1);
    printf("  --top K                how many classes to print (default 5)\n"
           "  --json                 print JSON instead of text\n"
           "  --raw OUT.npy          write the model output (logits, or probabilities\n"
           "                         when the graph ends in Softmax) as float32 .npy\n"
           "  --help                 this text\n");
}

int cmd_predict(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        predict_help();
        return 0;
    }
    cli_input in;
    cli_input_init(&in);
    int top = 5, json = 0, status = 1;
    const char *raw_path = NULL;
    hl_run *run = NULL;
    double *prob = NULL;
    int *order = NULL;

    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        int used = cli_input_option(&in, &a);
        if (used < 0)
            goto out;
        if (used)
            continue;
        const char *v;
        if (strcmp(a.name, "top") == 0) {
            if (!(v = cli_args_value(&a)) || !cli_parse_int("top", v, 1, 1000000, &top))
                goto out;
        } else if (strcmp(a.name, "json") == 0) {
            json = 1;
        } else if (strcmp(a.name, "raw") == 0) {
            if (!(raw_path = cli_args_value(&a)))
                goto out;
        } else {
            cli_fail("predict: unknown option '%s'; valid: --model, --image, "
                     "--input-npy, --top, --json, --raw, --threads, --labels, "
                     "--input-size, --resize, --mean, --std, --scale, "
                     "--channel-order, --help", a.word);
            goto out;
        }
    }
    if (r < 0 || cli_input_load(&in, 1))
        goto out;

    hl_error err = {0};
    run = hl_run_new(in.model, in.threads);
    if (!run) {
        cli_fail("out of memory creating the engine run");
        goto out;
    }
    double t0 = cli_now();
    if (hl_run_forward(run, in.input->data, 1, &err) != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }
    double seconds = cli_now() - t0;
    hl_shape oshape;
    const float *logits = hl_run_value(run, hl_model_output_value(in.model), &oshape);
    int n = (int)hl_shape_numel(&oshape);
    if (!logits || n <= 0) {
        cli_fail("%s: the model produced no output", in.resolved_model);
        goto out;
    }
    if (top > n)
        top = n;
    prob = malloc((size_t)n * sizeof *prob);
    order = malloc((size_t)top * sizeof *order);
    if (!prob || !order) {
        cli_fail("out of memory");
        goto out;
    }
    /* logits or probabilities: the library's one rule (hl_model_output_kind) */
    if (hl_class_probabilities(in.model, logits, n, prob, &err) != HL_OK) {
        cli_fail("%s", err.msg);
        goto out;
    }
    hl_top_k(prob, n, top, order);

    if (raw_path) {
        hl_array out_arr = {.shape = oshape, .data = (float *)logits};
        if (hl_npy_write(raw_path, &out_arr, &err) != HL_OK) {
            cli_fail("%s", err.msg);
            goto out;
        }
    }

    const char *input_name = in.image_path ? in.image_path : in.input_npy;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, hl_model_name(in.model));
        printf(", \"input\": ");
        cli_json_string(stdout, input_name);
        printf(", \"seconds\": %.6f, \"top\": [", seconds);
        for (int j = 0; j < top; j++) {
            printf("%s{\"index\": %d, \"label\": ", j ? ", " : "", order[j]);
            cli_json_string(stdout, cli_input_label(&in, order[j]));
            printf(", \"probability\": %.6g, \"logit\": %.6g}", prob[order[j]],
                   (double)logits[order[j]]);
        }
        printf("]}\n");
    } else {
        printf("%s on %s (%.1f ms)\n", hl_model_name(in.model), input_name,
               seconds * 1e3);
        for (int j = 0; j < top; j++)
            printf("%2d. %6.2f%%  %4d  %s\n", j + 1, prob[order[j]] * 100.0,
                   order[j], cli_input_label(&in, order[j]));
    }
    status = 0;
out:
    free(prob);
    free(order);
    hl_run_free(run);
    cli_input_clear(&in);
    return status;
}
