/* The heatlens-cli commands; each takes argv with argv[0] = command name
 * and returns the process exit status. */
#ifndef HL_CLI_COMMANDS_H
#define HL_CLI_COMMANDS_H

int cmd_predict(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_batch_merge(int argc, char **argv);
int cmd_gallery(int argc, char **argv);
int cmd_ops(int argc, char **argv);

#endif
