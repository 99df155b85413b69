#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <aigtatt/version.h>
#include "cli/cli.h"
#include "util/error.h"

static const char main_help[] =
    "usage: aigtatt [-v|-q] <command> [options]\n"
    "\n"
    "Bootstraps tattoo recognition with synthetic data: runs an experiment graph\n"
    "of plugins described in a YAML file.\n"
    "\n"
    "commands:\n"
    "  run FILE        run an experiment (unchanged nodes are taken from the cache)\n"
    "  validate FILE   check an experiment without running anything\n"
    "  graph FILE      print the experiment as a Graphviz DOT graph\n"
    "  eval FILE       evaluate an embeddings file (.safetensors/.npy/.csv) on its own\n"
    "  plugins list    list plugins and components (and refused plugins)\n"
    "  plugins info N  parameters, ports and docs of component N\n"
    "  help [COMMAND]  this text, or a command's\n"
    "\n"
    "options:\n"
    "  -v, --verbose   debug log lines\n"
    "  -q, --quiet     warnings and errors only\n"
    "  --version       print the version and plugin ABI\n"
    "\n"
    "exit codes: 0 ok, 1 a node failed, 2 bad command line, 3 invalid experiment\n"
    "or plugin, 4 workdir locked or not writable, 130 interrupted.\n"
    "\n"
    "Plugins are searched in the build or install plugin folder, then in the\n"
    "folders of AIGTATT_PLUGIN_PATH (':'-separated).\n";

int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aigtatt%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `aigtatt %s%s--help`)\n", cmd ? cmd : "", cmd ? " " : "");
    va_end(ap);
    return EXIT_USAGE;
}

static int dispatch(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "run"))
        return cmd_run(argc, argv);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc, argv);
    if (!strcmp(cmd, "graph"))
        return cmd_graph(argc, argv);
    if (!strcmp(cmd, "plugins"))
        return cmd_plugins(argc, argv);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc, argv);
    return -1;
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(main_help, stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--version")) {
            printf("aigtatt %s (plugin ABI %d.%d)\n", AIGTATT_VERSION_STRING, AIGTATT_ABI_MAJOR,
                   AIGTATT_ABI_MINOR);
            return EXIT_OK;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            aigtatt_log_set_level(AIGTATT_LOG_DEBUG);
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            aigtatt_log_set_level(AIGTATT_LOG_WARN);
        } else {
            return usage_error(NULL, "unknown option '%s'", a);
        }
    }
    if (i >= argc) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i];
    if (!strcmp(cmd, "help")) {
        if (i + 1 < argc) {
            char *help_argv[] = {argv[i + 1], "--help", NULL};
            int rc = dispatch(argv[i + 1], 2, help_argv);
            if (rc >= 0)
                return rc;
            return usage_error(NULL, "unknown command '%s'", argv[i + 1]);
        }
        fputs(main_help, stdout);
        return EXIT_OK;
    }
    int rc = dispatch(cmd, argc - i, argv + i);
    if (rc < 0) {
        static const char *const cmds[] = {"run", "validate", "graph", "plugins", "eval", "help"};
        const char *best = NULL;
        for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
            if (!strncmp(cmd, cmds[k], 2))
                best = cmds[k];
        if (best)
            return usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", cmd, best);
        return usage_error(NULL, "unknown command '%s'", cmd);
    }
    return rc;
}
