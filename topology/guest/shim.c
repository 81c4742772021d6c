#include "guest.h"

/* ---- containerd-shim, dockerd, containerd ---------------------------------------------- */

/* dockerd, containerd: stand-ins for `ps` on the Docker host (the engine is the lab's daemon, outside
 * the sandbox). They wait, all signals blocked but SIGKILL and SIGSTOP. */
int idle_main(void) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (;;) pause();
    return 0;
}

/* containerd-shim ARGS...: a container's parent, as `ps` shows it on a Docker host (ARGS are the real
 * shim's, for show). It runs the NUL-separated command in fd $NSLAB_SHIM_ARGV (bwrap, which builds the
 * container) with stdout and stderr appended to $NSLAB_SHIM_LOG when set (the container's log), waits
 * for it and exits with its status. */
int shim_main(void) {
    const char *fdtext = getenv("NSLAB_SHIM_ARGV"), *log = getenv("NSLAB_SHIM_LOG");
    if (!fdtext) {
        fputs("containerd-shim: NSLAB_SHIM_ARGV is not set\n", stderr);
        return 2;
    }
    int in = atoi(fdtext);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (ssize_t n; buf && (n = read(in, buf + len, cap - len - 1)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return 126;
        if ((len += (size_t)n) + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf || !len) return 126;
    close(in);
    buf[len] = 0;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += !buf[i];
    char **args = calloc(count + 1, sizeof *args);
    for (size_t i = 0, k = 0; args && i < len && k < count; i += strlen(buf + i) + 1) args[k++] = buf + i;
    if (!args || !args[0]) return 126;
    if (log) {
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
            perror("containerd-shim: log");
            return 126;
        }
        close(fd);
    }
    unsetenv("NSLAB_SHIM_ARGV");
    unsetenv("NSLAB_SHIM_LOG");
    pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        execvp(args[0], args);
        _exit(127);
    }
    syscall(SYS_close_range, 3, ~0U, 0); /* the container's pipes are the child's alone */
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return 126;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
