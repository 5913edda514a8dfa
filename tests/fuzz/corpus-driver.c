/* Replays the fuzz corpora and the saved crash reproducers through the
 * libFuzzer harnesses without libFuzzer: one TAP line per file. A file that
 * crashes, hangs or trips a sanitizer takes the test down with it; a file
 * that returns is a pass (every harness returns 0 whatever the reader says).
 *
 * Each file runs in a child process, so a crash is one "not ok" line and the
 * other files still run. Files named in regressions/open-bugs.txt (one name
 * a line, '#' comments) reproduce bugs not fixed yet: their lines carry a
 * TAP "# TODO" directive, so they show up as expected failures until the
 * fix lands (then delete the line).
 *
 * The harnesses are linked in with LLVMFuzzerTestOneInput renamed to
 * hl_fuzz_<reader>_one_input (see meson.build), so one program covers all
 * three readers.
 *
 * Usage: fuzz-corpus [source-root] (default: $HL_SOURCE_ROOT). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

int hl_fuzz_onnx_one_input(const uint8_t *data, size_t size);
int hl_fuzz_image_one_input(const uint8_t *data, size_t size);
int hl_fuzz_npy_one_input(const uint8_t *data, size_t size);

typedef struct reader {
    const char *name;   /* corpus/<name>/, regressions/<name>-* */
    int (*one_input)(const uint8_t *data, size_t size);
} reader;

static const reader readers[] = {
    {"onnx", hl_fuzz_onnx_one_input},
    {"image", hl_fuzz_image_one_input},
    {"npy", hl_fuzz_npy_one_input},
};

/* The whole file in a buffer of exactly its size (so an over-read of one
 * byte is visible to a sanitizer build); NULL on error. */
static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (exact)
        memcpy(exact, buf, len);
    free(buf);
    *size = len;
    return exact;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular names in dir starting with prefix, sorted; count in *n. */
static char **list_files(const char *dir, const char *prefix, int *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' ||
            strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
            strcmp(e->d_name, "README.md") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, sizeof *names * (size_t)cap);
            if (!nn)
                break;
            names = nn;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (names)
        qsort(names, (size_t)*n, sizeof *names, compare_names);
    return names;
}

/* Runs one input in a child; 0 when it returned normally, else the exit
 * status or signal number (ASan exits 1, UBSan aborts). */
static int run_isolated(const reader *r, const uint8_t *data, size_t size,
                        char *why, size_t why_size)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "fork failed");
        return -1;
    }
    if (pid == 0)
        exit(r->one_input(data, size) == 0 ? 0 : 3); /* exit: LSan runs */
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        snprintf(why, why_size, "waitpid failed");
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status))
        snprintf(why, why_size, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(why, why_size, "exit status %d", WEXITSTATUS(status));
    return 1;
}

/* Is name listed in the open-bugs file (whole lines)? */
static int is_open_bug(const char *open_bugs, const char *name)
{
    FILE *f = fopen(open_bugs, "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        found = line[0] != '#' && strcmp(line, name) == 0;
    }
    fclose(f);
    return found;
}

/* Failures of known open bugs: expected, they do not fail the program. */
static int todo_failures = 0;

static int replay_dir(const reader *r, const char *dir, const char *prefix,
                      const char *open_bugs)
{
    int n;
    char **names = list_files(dir, prefix, &n);
    for (int i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size = 0;
        uint8_t *data = len > 0 && (size_t)len < sizeof path
                            ? read_whole(path, &size) : NULL;
        if (!data) {
            tap_ok(0, "%s: read %s", r->name, path);
        } else {
            char why[128] = "";
            int failed = run_isolated(r, data, size, why, sizeof why);
            if (is_open_bug(open_bugs, names[i])) {
                todo_failures += failed != 0;
                tap_ok(!failed, "%s: %s (%zu bytes)%s%s # TODO open bug, "
                       "see regressions/open-bugs.txt", r->name, names[i],
                       size, failed ? ": " : "", why);
            } else {
                tap_ok(!failed, "%s: %s (%zu bytes)%s%s", r->name, names[i],
                       size, failed ? ": " : "", why);
            }
            free(data);
        }
        free(names[i]);
    }
    free(names);
    return n;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : getenv("HL_SOURCE_ROOT");
    if (!root) {
        fprintf(stderr, "usage: %s SOURCE_ROOT (or set HL_SOURCE_ROOT)\n",
                argv[0]);
        return 2;
    }
    char open_bugs[4096];
    if (snprintf(open_bugs, sizeof open_bugs,
                 "%s/tests/fuzz/regressions/open-bugs.txt", root) >=
        (int)sizeof open_bugs) {
        fprintf(stderr, "source root path too long\n");
        return 2;
    }
    for (size_t k = 0; k < sizeof readers / sizeof readers[0]; k++) {
        const reader *r = &readers[k];
        char dir[4096], prefix[64];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", root, r->name);
        int seeds = replay_dir(r, dir, "", open_bugs);
        tap_ok(seeds > 0, "%s: corpus %s has %d files", r->name, dir, seeds);
        snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions", root);
        snprintf(prefix, sizeof prefix, "%s-", r->name);
        int crashes = replay_dir(r, dir, prefix, open_bugs);
        tap_diag("%s: %d regression inputs", r->name, crashes);
    }
    int status = tap_done();
    return tap_failed_ > todo_failures ? status : 0;
}
