/* heatlens-cli: explain image classifiers from the command line.
 * This file only dispatches; each command lives in cmd-<name>.c. */
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-options.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);  /* argv[0] is the command name */
} cli_command;

static const cli_command commands[] = {
    {"predict", "top-k classes of an image with their probabilities", cmd_predict},
    {"layers", "every node of a model: name, op, output and shape", cmd_layers},
    {"explain", "one attribution method on one image (.npy, PNG, PDF, SVG)", cmd_explain},
    {"report", "several methods side by side on one page (PDF or PNG)", cmd_report},
    {"evaluate", "how far to trust a method's map: metrics and sanity check", cmd_evaluate},
    {"batch", "methods over a folder or list of images, with a manifest", cmd_batch},
    {"batch-merge", "merge the output folders of batch shards into one", cmd_batch_merge},
    {"gallery", "a contact sheet (HTML or PDF) of a batch folder", cmd_gallery},
    {"ops", "the ONNX operators the engine runs", cmd_ops},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void print_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s COMMAND [OPTIONS]\n"
            "\n"
            "Explain what an image classifier (ONNX) looks at, with Captum's\n"
            "attribution methods on Heatlens' own engine.\n"
            "\n"
            "Commands:\n",
            CLI_PROG);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Global options:\n"
            "  --help     this text; COMMAND --help for a command's options\n"
            "  --version  print the version\n"
            "\n"
            "Example:\n"
            "  %s explain --image cat.png --method integrated_gradients --out ig.png\n",
            CLI_PROG);
}

int main(int argc, char **argv)
{
    hl_engine_init();
    if (argc < 2)
        return cli_fail("no command given; valid: predict, layers, explain, "
                        "report, evaluate, batch, batch-merge, gallery, ops (try --help)");
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 ||
        strcmp(first, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        printf("%s %s\n", CLI_PROG, HL_VERSION);
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(first, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);

    char valid[256] = "";
    for (int i = 0; i < N_COMMANDS; i++) {
        if (i)
            strcat(valid, ", ");
        strcat(valid, commands[i].name);
    }
    return cli_fail("unknown command '%s'; valid: %s", first, valid);
}
