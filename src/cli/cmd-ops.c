/* heatlens-cli ops: the ONNX ops the engine runs, from its op table (the
 * list an "unsupported op" message points to). */
#include <string.h>

#include "cli-commands.h"
#include "cli-options.h"

static void ops_help(void)
{
    printf("Usage: %s ops [--json]\n"
           "\n"
           "List the ONNX operators (default domain, opsets 7 to 22) that\n"
           "Heatlens' engine runs, one a line: op, its source file and a note\n"
           "on its limits (docs/engine-ops.md has the same table).\n"
           "\n"
           "Options:\n"
           "  --json                 print JSON instead of a table\n"
           "  --help                 this text\n", CLI_PROG);
}

int cmd_ops(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 1)) {
        ops_help();
        return 0;
    }
    int json = 0;
    cli_args a;
    cli_args_init(&a, argc, argv, 1);
    int r;
    while ((r = cli_args_next(&a)) > 0) {
        if (strcmp(a.name, "json") == 0) {
            json = 1;
        } else {
            cli_fail("ops: unknown option '%s'; valid: --json, --help", a.word);
            return 1;
        }
    }
    if (r < 0)
        return 1;
    int n = hl_engine_op_count();
    if (json)
        printf("[");
    for (int i = 0; i < n; i++) {
        const char *note = hl_engine_op_note(i);
        if (json) {
            printf("%s\n  {\"op\": ", i ? "," : "");
            cli_json_string(stdout, hl_engine_op_name(i));
            printf(", \"file\": ");
            cli_json_string(stdout, hl_engine_op_file(i));
            printf(", \"note\": ");
            cli_json_string(stdout, note);
            printf("}");
        } else {
            printf("%-24s %-18s %s\n", hl_engine_op_name(i),
                   hl_engine_op_file(i), note);
        }
    }
    if (json)
        printf("\n]\n");
    return 0;
}
