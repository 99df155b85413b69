/* The aigtatt command line: thin; every decision lives in the core. */
#ifndef AIGTATT_CLI_H
#define AIGTATT_CLI_H

/* Exit codes scripts can rely on (also listed by `aigtatt --help`). */
enum {
    EXIT_OK = 0,          /* success */
    EXIT_FAILED = 1,      /* a node failed while running */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_INVALID = 3,     /* the experiment file or a plugin it names is invalid */
    EXIT_ENV = 4,         /* the workdir is locked or cannot be written */
    EXIT_INTERRUPTED = 130 /* Ctrl-C or SIGTERM */
};

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/** Prints a usage error and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...);

#endif
