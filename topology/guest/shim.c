#include "guest.h"

/* ---- dockerd, containerd: the parents of a Docker host's processes --------------------- */

#define SPAWN_MAX_FDS 64

static int has_flag(const char *flags, const char *word) {
    size_t n = strlen(word);
    for (const char *p = flags; (p = strstr(p, word)); p += n)
        if ((p == flags || p[-1] == ' ') && (!p[n] || p[n] == ' ')) return 1;
    return 0;
}

/* Start the process a request describes; return its pid, or -1 with errno set. The request is
 * "FLAGS\0TARGETS\0ARGV...\0\0ENV...": TARGETS the fd numbers the received fds get in the process, in
 * order (0-2 default to /dev/null); ARGV[0] is found in this PATH. FLAGS, words: "sibling" makes it
 * this process's sibling (CLONE_PARENT: a child of init, as containerd-shim-runc-v2 is once it has
 * daemonized); "status": the fd after the process's own is where its exit status goes once it is
 * reaped (*STATUS_FD; a shim's exec); "pidns": the last fd is the pid namespace it is made in. */
static pid_t spawn_request(char *buf, size_t len, const int *fds, int nfds, int *status_fd) {
    char *end = buf + len, *p = buf, *argv[256], *envp[256];
    int target[SPAWN_MAX_FDS], ntargets = 0, argc = 0, envc = 0, top = 2;
    static int own_pidns = -1;
    if (!len || buf[len - 1]) goto invalid;
    const char *flags = p;
    int status = has_flag(flags, "status"), pidns = has_flag(flags, "pidns");
    p += strlen(p) + 1;
    for (char *t = p, *next; p < end && *t; t = next) {
        long fd = strtol(t, &next, 10);
        if (next == t || fd < 0 || fd > 1000 || ntargets == SPAWN_MAX_FDS) goto invalid;
        target[ntargets++] = (int)fd;
        if (fd > top) top = (int)fd;
    }
    if (p >= end || ntargets + status + pidns != nfds) goto invalid;
    p += strlen(p) + 1;
    while (p < end && *p && argc < 255) argv[argc++] = p, p += strlen(p) + 1;
    if (!argc || p >= end || *p) goto invalid;
    for (p++; p < end && envc < 255; p += strlen(p) + 1) envp[envc++] = p;
    argv[argc] = envp[envc] = NULL;
    *status_fd = status ? fds[ntargets] : -1;
    if (pidns) { /* the next child's pid namespace, then this process's own again */
        if (own_pidns < 0 && (own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0) return -1;
        if (setns(fds[nfds - 1], CLONE_NEWPID)) return -1;
    }
    pid_t pid = has_flag(flags, "sibling") ? (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0) : fork();
    if (pid && pidns && setns(own_pidns, CLONE_NEWPID)) {
        perror("nslab spawner: back to its pid namespace");
        _exit(126);
    }
    if (pid) return pid;
    /* the child: its own session, default signals, the fds at their numbers, nothing else open */
    setsid();
    default_signals();
    int moved[SPAWN_MAX_FDS];
    for (int i = 0; i < ntargets; i++)
        if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top + 1)) < 0) _exit(126);
    syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC);
    for (int fd = 0; fd < 3; fd++) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, fd) < 0) _exit(126);
        if (null != fd) close(null);
    }
    for (int i = 0; i < ntargets; i++)
        if (dup2(moved[i], target[i]) < 0) _exit(126);
    execvpe(argv[0], argv, envp);
    _exit(errno == ENOENT ? 127 : 126);
invalid:
    errno = EINVAL;
    return -1;
}

/* Answer one connection: a request from the lab's daemon, answered with "ok" and a pidfd of the new
 * process, or an error text; the new pid, or -1. Only a peer outside this pid namespace (pid 0 here)
 * is served: that is the daemon, never a process of the sandbox. *STATUS_FD: see spawn_request (-1
 * when the request has none; the caller owns it). */
static pid_t spawn_answer(int conn, int *status_fd) {
    struct ucred peer;
    socklen_t len = sizeof peer;
    *status_fd = -1;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) || peer.pid != 0) return -1;
    static char buf[65536];
    union { char space[CMSG_SPACE(SPAWN_MAX_FDS * sizeof(int))]; struct cmsghdr align; } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                         .msg_controllen = sizeof control.space};
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return -1;
    int fds[SPAWN_MAX_FDS], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                if (nfds < SPAWN_MAX_FDS) fds[nfds++] = fd; else close(fd);
            }
    pid_t pid = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? (errno = E2BIG, -1)
                                                           : spawn_request(buf, (size_t)n, fds, nfds, status_fd);
    int saved = errno, pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    for (int i = 0; i < nfds; i++)
        if (fds[i] != *status_fd || pid <= 0) close(fds[i]);
    if (pid <= 0) *status_fd = -1;
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
    return pid;
}

/* A listening socket at PATH (its directory made), served only to the daemon (spawn_answer). */
static int spawn_listen(const char *path) {
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    mkdir(dir, 0711);
    unlink(path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) || chmod(path, 0600) || listen(s, 64)) {
        perror(path);
        return -1;
    }
    return s;
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
    /* One instance: a second one (the daemon asked before the first listened) waits for its socket */
    char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8], dir[sizeof lock_path];
    snprintf(lock_path, sizeof lock_path, "%s.lock", socket_path);
    snprintf(dir, sizeof dir, "%s", socket_path);
    *strrchr(dir, '/') = 0;
    mkdir(dir, 0711);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) {
        perror(lock_path);
        return 1;
    }
    if (flock(lock, LOCK_EX | LOCK_NB)) {
        struct stat st;
        for (int i = 0; i < 2000 && stat(socket_path, &st); i++) usleep(1000);
        return 0;
    }
    int s = spawn_listen(socket_path);
    if (s < 0) return 1;
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
        int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC), status_fd;
        if (conn < 0) continue;
        spawn_answer(conn, &status_fd);
        if (status_fd >= 0) close(status_fd); /* its children are reaped by the kernel: no status */
        close(conn);
    }
}

/* Close every fd from 3 on but the N in KEEP (-1 entries ignored). */
static void close_all_but(int *keep, int n) {
    for (int i = 1; i < n; i++) /* sort: a few entries */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1], keep[j - 1] = t;
        }
    unsigned low = 3;
    for (int i = 0; i < n; i++) {
        if (keep[i] < (int)low) continue;
        if ((unsigned)keep[i] > low) syscall(SYS_close_range, low, keep[i] - 1, 0);
        low = keep[i] + 1;
    }
    syscall(SYS_close_range, low, ~0U, 0);
}

/* containerd-shim ARGS...: a container's parent, as `ps` shows it on a Docker host (ARGS are the real
 * shim's, for show). It runs the NUL-separated command in fd $NSLAB_SHIM_ARGV (bwrap, which builds the
 * container) with stdout and stderr appended to $NSLAB_SHIM_LOG when set (the container's log). As
 * the real shim it is a subreaper: once bwrap's monitor is gone (the daemon ends it when the container
 * is built, as runc exits after starting it), the container's first process is its child. It serves
 * $NSLAB_SHIM_SOCKET as the stand-ins do: the daemon's `docker exec` processes are made there, its
 * children in the container's pid namespace, each exit status written where the request said. It
 * exits once it has no child left, with the status of the container's process (128+N for a signal N),
 * which it also writes to fd $NSLAB_SHIM_STATUS, where the daemon (not its parent) reads it (it keeps
 * the read end, fd $NSLAB_SHIM_STATUS_READ, which a restarted daemon takes with pidfd_getfd). With
 * $NSLAB_SHIM_NETNS (an fd), bwrap runs in that network namespace (--net=container:). */
int shim_main(void) {
    const char *fdtext = getenv("NSLAB_SHIM_ARGV"), *log = getenv("NSLAB_SHIM_LOG");
    const char *status_text = getenv("NSLAB_SHIM_STATUS"), *netns = getenv("NSLAB_SHIM_NETNS");
    const char *socket_path = getenv("NSLAB_SHIM_SOCKET"), *status_read = getenv("NSLAB_SHIM_STATUS_READ");
    if (!fdtext || !socket_path) {
        fputs("containerd-shim: NSLAB_SHIM_ARGV or NSLAB_SHIM_SOCKET is not set\n", stderr);
        return 2;
    }
    int in = atoi(fdtext), status_fd = status_text ? atoi(status_text) : -1;
    int status_copy = status_read ? atoi(status_read) : -1; /* kept for a restarted daemon to take */
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
    static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(path, sizeof path, "%s", socket_path);
    unsetenv("NSLAB_SHIM_ARGV");
    unsetenv("NSLAB_SHIM_LOG");
    unsetenv("NSLAB_SHIM_STATUS");
    unsetenv("NSLAB_SHIM_NETNS");
    unsetenv("NSLAB_SHIM_SOCKET");
    unsetenv("NSLAB_SHIM_STATUS_READ");
    if (netns && (setns(atoi(netns), CLONE_NEWNET) || close(atoi(netns)))) {
        perror("containerd-shim: joining the network namespace");
        return 126;
    }
    if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    if (status_copy >= 0) fcntl(status_copy, F_SETFD, FD_CLOEXEC);
    int listener = spawn_listen(path);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (listener < 0 || sfd < 0 || sigprocmask(SIG_BLOCK, &chld, NULL)) return 126;
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        execvp(args[0], args);
        _exit(127);
    }
    signal(SIGPIPE, SIG_IGN); /* a status nobody reads any more is no reason to end */
    /* the container's pipes are the child's alone */
    int keep[] = {status_fd, status_copy, listener, sfd};
    close_all_but(keep, 4);
    struct { pid_t pid; int fd; } execs[256];
    int nexecs = 0, code = 126;
    for (;;) {
        struct pollfd ready[2] = {{.fd = listener, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(ready, 2, -1) < 0) continue;
        if (ready[0].revents & POLLIN) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC), exec_status = -1;
            pid_t pid = conn < 0 ? -1 : spawn_answer(conn, &exec_status);
            if (pid > 0 && exec_status >= 0 && nexecs < 256) execs[nexecs++].pid = pid, execs[nexecs - 1].fd = exec_status;
            else if (exec_status >= 0) close(exec_status);
            if (conn >= 0) close(conn);
        }
        struct signalfd_siginfo info;
        while (read(sfd, &info, sizeof info) > 0) {
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int reaped = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status), i = 0;
            while (i < nexecs && execs[i].pid != pid) i++;
            if (i == nexecs) { /* bwrap's monitor, or the container's first process after it */
                code = reaped;
                continue;
            }
            dprintf(execs[i].fd, "%d\n", reaped);
            close(execs[i].fd);
            execs[i] = execs[--nexecs];
        }
        if (pid < 0 && errno == ECHILD) break;
    }
    unlink(path);
    if (status_fd >= 0) dprintf(status_fd, "%d\n", code);
    return code;
}
