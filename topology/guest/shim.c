#include "guest.h"

/* ---- dockerd, containerd: the parents of a Docker host's processes --------------------- */

#define SPAWN_MAX_FDS 64

/* Start the process a request describes; return its pid, or -1 with errno set. The request is
 * "FLAGS\0TARGETS\0ARGV...\0\0ENV...": FLAGS "sibling" makes it this process's sibling (CLONE_PARENT:
 * a child of init, as containerd-shim-runc-v2 is once it has daemonized), TARGETS the fd numbers the
 * received fds get in it, in order (0-2 default to /dev/null); ARGV[0] is found in this PATH. */
static pid_t spawn_request(char *buf, size_t len, const int *fds, int nfds) {
    char *end = buf + len, *p = buf, *argv[256], *envp[256];
    int target[SPAWN_MAX_FDS], ntargets = 0, argc = 0, envc = 0, top = 2;
    if (!len || buf[len - 1]) goto invalid;
    const char *flags = p;
    p += strlen(p) + 1;
    for (char *t = p, *next; p < end && *t; t = next) {
        long fd = strtol(t, &next, 10);
        if (next == t || fd < 0 || fd > 1000 || ntargets == SPAWN_MAX_FDS) goto invalid;
        target[ntargets++] = (int)fd;
        if (fd > top) top = (int)fd;
    }
    if (p >= end || ntargets != nfds) goto invalid;
    p += strlen(p) + 1;
    while (p < end && *p && argc < 255) argv[argc++] = p, p += strlen(p) + 1;
    if (!argc || p >= end || *p) goto invalid;
    for (p++; p < end && envc < 255; p += strlen(p) + 1) envp[envc++] = p;
    argv[argc] = envp[envc] = NULL;
    pid_t pid = strcmp(flags, "sibling") ? fork() : (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid) return pid;
    /* the child: its own session, default signals, the fds at their numbers, nothing else open */
    setsid();
    default_signals();
    int moved[SPAWN_MAX_FDS];
    for (int i = 0; i < nfds; i++)
        if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top + 1)) < 0) _exit(126);
    syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC);
    for (int fd = 0; fd < 3; fd++) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, fd) < 0) _exit(126);
        if (null != fd) close(null);
    }
    for (int i = 0; i < nfds; i++)
        if (dup2(moved[i], target[i]) < 0) _exit(126);
    execvpe(argv[0], argv, envp);
    _exit(errno == ENOENT ? 127 : 126);
invalid:
    errno = EINVAL;
    return -1;
}

/* Answer one connection: a request from the lab's daemon, answered with "ok" and a pidfd of the new
 * process, or an error text. Only a peer outside this pid namespace (pid 0 here) is served: that is
 * the daemon, never a process of the sandbox. */
static void spawn_answer(int conn) {
    struct ucred peer;
    socklen_t len = sizeof peer;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) || peer.pid != 0) return;
    static char buf[65536];
    union { char space[CMSG_SPACE(SPAWN_MAX_FDS * sizeof(int))]; struct cmsghdr align; } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return;
    int fds[SPAWN_MAX_FDS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                if (nfds < SPAWN_MAX_FDS) fds[nfds++] = fd; else close(fd);
            }
    pid_t pid = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? (errno = E2BIG, -1) : spawn_request(buf, (size_t)n, fds, nfds);
    int saved = errno, pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    for (int i = 0; i < nfds; i++) close(fds[i]);
    char reply[128];
    if (pidfd >= 0) strcpy(reply, "ok");
    else snprintf(reply, sizeof reply, "error: %s", strerror(pid > 0 ? errno : saved));
    union { char space[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } out;
    struct iovec riov = {.iov_base = reply, .iov_len = strlen(reply)};
    struct msghdr rmsg = {.msg_iov = &riov, .msg_iovlen = 1};
    if (pidfd >= 0) {
        rmsg.msg_control = out.space, rmsg.msg_controllen = sizeof out.space;
        struct cmsghdr *c = CMSG_FIRSTHDR(&rmsg);
        c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pidfd, sizeof pidfd);
    }
    sendmsg(conn, &rmsg, MSG_NOSIGNAL);
    if (pidfd >= 0) close(pidfd);
}

/* dockerd, containerd: what `ps` shows of Docker's daemons on the Docker host (the engine is the lab's
 * daemon, outside the sandbox), and the parents of the processes they start there: the daemon asks
 * on SOCKET (dockerd: docker-proxy; containerd: a container's shim). Started by other than init (the
 * daemon restarts one that was killed), it daemonizes once it listens. All signals are blocked but
 * SIGKILL and SIGSTOP; children are reaped by the kernel (SIGCHLD ignored). */
int standin_main(const char *socket_path) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    signal(SIGCHLD, SIG_IGN);
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
    snprintf(dir, sizeof dir, "%s", socket_path);
    *strrchr(dir, '/') = 0;
    mkdir(dir, 0711);
    unlink(socket_path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) || chmod(socket_path, 0600) || listen(s, 64)) {
        perror(socket_path);
        return 1;
    }
    if (getppid() != 1) { /* restarted by the daemon: a child of init, as a service is */
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid) _exit(0);
        setsid();
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++) dup2(null, fd);
        if (null > 2) close(null);
    }
    for (;;) {
        int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) continue;
        spawn_answer(conn);
        close(conn);
    }
}

/* containerd-shim ARGS...: a container's parent, as `ps` shows it on a Docker host (ARGS are the real
 * shim's, for show). It runs the NUL-separated command in fd $NSLAB_SHIM_ARGV (bwrap, which builds the
 * container) with stdout and stderr appended to $NSLAB_SHIM_LOG when set (the container's log). As
 * the real shim it is a subreaper: once bwrap's monitor is gone (the daemon ends it when the container
 * is built, as runc exits after starting it), the container's first process is its child. It waits
 * until it has no child left and exits with the status of the last one (128+N for a signal N), which
 * it also writes to fd $NSLAB_SHIM_STATUS, where the daemon (not its parent) reads it. With
 * $NSLAB_SHIM_NETNS (an fd), bwrap runs in that network namespace (--net=container:). */
int shim_main(void) {
    const char *fdtext = getenv("NSLAB_SHIM_ARGV"), *log = getenv("NSLAB_SHIM_LOG");
    const char *status_text = getenv("NSLAB_SHIM_STATUS"), *netns = getenv("NSLAB_SHIM_NETNS");
    if (!fdtext) {
        fputs("containerd-shim: NSLAB_SHIM_ARGV is not set\n", stderr);
        return 2;
    }
    int in = atoi(fdtext), status_fd = status_text ? atoi(status_text) : -1;
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
    unsetenv("NSLAB_SHIM_STATUS");
    unsetenv("NSLAB_SHIM_NETNS");
    if (netns && (setns(atoi(netns), CLONE_NEWNET) || close(atoi(netns)))) {
        perror("containerd-shim: joining the network namespace");
        return 126;
    }
    if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        execvp(args[0], args);
        _exit(127);
    }
    /* the container's pipes are the child's alone */
    if (status_fd > 3) syscall(SYS_close_range, 3, status_fd - 1, 0);
    syscall(SYS_close_range, (status_fd < 3 ? 3 : status_fd + 1), ~0U, 0);
    int code = 126;
    for (int status;;) {
        if (wait(&status) < 0) {
            if (errno == EINTR) continue;
            break; /* ECHILD */
        }
        code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    if (status_fd >= 0) dprintf(status_fd, "%d\n", code);
    return code;
}
