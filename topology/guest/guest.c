/*
 * nslab's programs inside a sandbox, one binary called by several names (the file of each):
 *   docker        (docker.c) hands its argv and stdio to the emulated engine on /var/run/docker.sock
 *   docker-proxy  (proxy.c) Docker's userland proxy: relays a published host port to a container
 *   init          (here) pid 1 of the Docker host: reaps orphans and cannot be killed from inside
 *   nslab-enter   (here; daemon side) starts a sandbox process: joins its cgroups, becomes its root uid
 *   nslab-pty     (pty.c) the lab's terminal: the shell on a pty of the sandbox, hung up as sshd does
 *   nslab-sockets (sockets.c; daemon side) makes sockets in a sandbox's network namespaces
 *   nslab-dnsd    (dnsd.c) the outside world's DNS server (the Docker host's resolver, 198.51.100.53)
 *   nslab-sysfs   (sysfs.c; daemon side) puts a sysfs of a container's network namespace on its /sys
 *   nslab-confine (confine.c; a container's first program) gives it Docker's capabilities and seccomp
 *   nslab-web     (web.c) the nginx and httpd images' servers, under their own command lines
 *   containerd-shim, containerd-shim-runc-v2  (shim.c) a container's parent: starts its bwrap
 *   dockerd, containerd  (shim.c) Docker's daemons as `ps` shows them: they start docker-proxy and
 *                 the shims for the lab's daemon
 * Small and fast on purpose: they run on every `docker` command and every `docker run -p`.
 */
#include "guest.h"

int write_all(int fd, const char *buf, ssize_t n) {
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        off += w;
    }
    return 0;
}

/* ---- init ------------------------------------------------------------------------------ */

int init_main(void) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL); /* as pid 1, blocked signals from inside never arrive */
    for (;;) {
        if (wait(NULL) < 0 && errno == ECHILD) {
            int sig;
            sigset_t child;
            sigemptyset(&child);
            sigaddset(&child, SIGCHLD);
            sigwait(&child, &sig);
        }
    }
    return 0;
}

/* ---- nslab-enter ----------------------------------------------------------------------- */

/* Load the seccomp filter (struct sock_filter[]) in file FD, read with pread: the daemon shares one
 * open file among many processes. Without CAP_SYS_ADMIN (an unprivileged daemon) the kernel wants
 * no_new_privs first. */
int load_filter(int fd) {
    struct stat st;
    static struct sock_filter code[4096];
    errno = 0;
    if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (off_t)sizeof code ||
        pread(fd, code, (size_t)st.st_size, 0) != st.st_size) {
        if (!errno) errno = EINVAL;
        return -1;
    }
    struct sock_fprog prog = {.len = (unsigned short)(st.st_size / sizeof code[0]), .filter = code};
    if (!syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) return 0;
    if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Every signal's default action and an empty signal mask, as after a login on a real host. A
 * background start (`make run &`, nohup, some service managers) leaves the server with SIGINT and
 * SIGQUIT (SIGHUP) ignored or signals blocked; exec keeps both, down to the student's shell, and a
 * program cannot undo a disposition that was ignored when it started (bash cannot): Ctrl-C would
 * do nothing. Raw system calls: glibc's refuse the signals it reserves (32, 33), a parent's may not. */
void default_signals(void) {
    struct { unsigned long handler, flags, restorer, mask; } dfl = {0}; /* the kernel's sigaction: SIG_DFL */
    unsigned long none = 0; /* the kernel's sigset: 64 signals */
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

/* nslab-enter [-f FILTER_FD] UID [CGROUP_PROCS...] -- COMMAND...: load the lab's seccomp filter
 * (topology/seccomp.py; without no_new_privs where the daemon may, as root), join the sandbox's cgroups (write 0 to each
 * cgroup.procs), become UID (real, effective and saved uid and gid, no supplementary groups) unless
 * this process already is UID, reset the signals (default_signals), then exec COMMAND. The daemon
 * starts every sandbox process through it: Python can then vfork (no preexec_fn), and no shell or
 * setpriv (~3 ms) runs first. */
int load_filter(int fd);

int enter_main(int argc, char **argv) {
    char *end;
    int i;
    if (argc > 2 && !strcmp(argv[1], "-f")) { /* the lab's seccomp filter, before anything else */
        if (load_filter(atoi(argv[2]))) {
            perror("nslab-enter: seccomp");
            return 126;
        }
        close(atoi(argv[2]));
        argc -= 2, argv += 2;
    }
    if (argc < 4) goto usage;
    uid_t uid = (uid_t)strtoul(argv[1], &end, 10);
    if (*end || end == argv[1]) goto usage;
    for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
        int fd = open(argv[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) {
            fprintf(stderr, "nslab-enter: %s: %s\n", argv[i], strerror(errno));
            return 126;
        }
        close(fd);
    }
    if (i + 1 >= argc) goto usage;
    if (uid != geteuid() && (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))) {
        fprintf(stderr, "nslab-enter: becoming uid %u: %s\n", (unsigned)uid, strerror(errno));
        return 126;
    }
    default_signals();
    execvp(argv[i + 1], argv + i + 1);
    fprintf(stderr, "nslab-enter: %s: %s\n", argv[i + 1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
usage:
    fputs("usage: nslab-enter [-f FILTER_FD] UID [CGROUP_PROCS...] -- COMMAND...\n", stderr);
    return 2;
}

int main(int argc, char **argv) {
    /* httpd's parent, exec'd by nslab-web under the server's own argv */
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    web_area = argv;
    if (execfn && !strcmp(execfn, "/proc/self/exe") && !strcmp(argv[0], "httpd")) return web_httpd_main(argv);
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (!strcmp(name, "nslab-guest") && argc > 1) { /* run by path under one of its names */
        argc--, argv++;
        name = argv[0];
    } else if (name[0] >= '0' && name[0] <= '9' && argc > 1) { /* run as /proc/self/fd/N, N not inherited */
        fcntl(atoi(name), F_SETFD, FD_CLOEXEC);
        argc--, argv++;
        name = argv[0];
    }
    if (!strcmp(name, "init")) return init_main();
    if (!strcmp(name, "docker-proxy")) return proxy_main(argc, argv);
    if (!strcmp(name, "nslab-enter")) return enter_main(argc, argv);
    if (!strcmp(name, "nslab-pty")) return pty_main(argc, argv);
    if (!strcmp(name, "nslab-sockets")) return sockets_main();
    if (!strcmp(name, "nslab-dnsd")) return dnsd_main(argc, argv);
    if (!strcmp(name, "nslab-sysfs")) return sysfs_main(argc, argv);
    if (!strcmp(name, "nslab-confine")) return confine_main(argc, argv);
    if (!strcmp(name, "nslab-web")) return web_main(argc, argv);
    if (!strncmp(name, "containerd-shim", 15)) return shim_main();
    /* their sockets: topology/docker/spawner.py */
    if (!strcmp(name, "dockerd")) return standin_main("/run/docker/nslab-dockerd.sock");
    if (!strcmp(name, "containerd")) return standin_main("/run/containerd/containerd.sock");
    return docker_main(argc, argv);
}
