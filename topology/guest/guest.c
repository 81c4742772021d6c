/*
 * nslab's programs inside a sandbox, one binary called by several names:
 *   docker        hands its argv and stdio to the emulated engine on /var/run/docker.sock
 *   docker-proxy  Docker's userland proxy: relays a published host port to a container
 *   init          pid 1 of the Docker host: reaps orphans and cannot be killed from inside
 *   nslab-enter   (daemon side) starts a sandbox process: joins its cgroups, becomes its root uid
 *   nslab-pty     the lab's terminal: runs the shell on a pty of the sandbox, hangs it up as sshd does
 *   nslab-sockets (daemon side) makes sockets inside a sandbox's network namespaces for the daemon
 *   nslab-dnsd    the outside world's DNS server (the Docker host's resolver, 198.51.100.53)
 *   nslab-sysfs   (daemon side) puts a sysfs of a container's own network namespace on its /sys
 *   nslab-confine (first program of a container process) gives it Docker's capabilities and seccomp
 *   nslab-web     the nginx and httpd images' servers, under their own command lines
 *   containerd-shim, containerd-shim-runc-v2  a container's parent: starts its bwrap, waits for it
 *   dockerd, containerd  what `ps` shows of Docker's daemons on the Docker host (they only wait)
 * Small and fast on purpose: they run on every `docker` command and every `docker run -p`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, ssize_t n) {
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        off += w;
    }
    return 0;
}

/* ---- docker ---------------------------------------------------------------------------- */

static int engine = -1;

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void send_size(int sig) {
    (void)sig;
    struct winsize ws;
    char buf[64];
    if (ioctl(1, TIOCGWINSZ, &ws) == 0) {
        int n = snprintf(buf, sizeof buf, "{\"size\":[%d,%d]}\n", ws.ws_col, ws.ws_row);
        if (write(engine, buf, n) < 0) return;
    }
}

static int docker_main(int argc, char **argv) {
    const char *path = "/var/run/docker.sock";
    const char *host = getenv("DOCKER_HOST");
    if (host && strncmp(host, "unix://", 7) == 0) path = host + 7;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    engine = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (engine < 0 || connect(engine, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "Cannot connect to the Docker daemon at unix://%s. Is the docker daemon running?\n", path);
        return 1;
    }
    char *msg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msg, &len);
    int tty = isatty(0) && isatty(1);
    fputs("{\"argv\":[", f);
    for (int i = 1; i < argc; i++) {
        if (i > 1) fputc(',', f);
        json_string(f, argv[i]);
    }
    fprintf(f, "],\"tty\":%s}\n", tty ? "true" : "false");
    fclose(f);

    int fds[3] = {0, 1, 2};
    char control[CMSG_SPACE(sizeof fds)];
    struct iovec iov = {.iov_base = msg, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    if (sendmsg(engine, &mh, 0) < 0) {
        perror("docker");
        return 1;
    }
    free(msg);

    /* The engine answers {"exit":N}; before that it may say "raw" when it relays a pseudo-terminal. */
    char reply[4096];
    size_t got = 0;
    struct termios saved;
    int raw = 0;
    for (;;) {
        ssize_t n = read(engine, reply + got, sizeof reply - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        reply[got] = 0;
        if (!raw && strncmp(reply, "raw\n", 4) == 0) {
            if (isatty(0) && tcgetattr(0, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                tcsetattr(0, TCSADRAIN, &t);
                raw = 1;
                signal(SIGWINCH, send_size);
                send_size(0);
            } else {
                raw = 2;
            }
            memmove(reply, reply + 4, got - 4);
            got -= 4;
            reply[got] = 0;
        }
        if (memchr(reply, '\n', got)) break;
    }
    if (raw == 1) tcsetattr(0, TCSADRAIN, &saved);
    const char *code = strstr(reply, "\"exit\":");
    if (!code) { /* the daemon went away mid-command (restarted or killed): say so, as the CLI does */
        fprintf(stderr, "error during connect: unexpected EOF from the Docker daemon at unix://%s: "
                        "it stopped during this command, whose result is unknown\n", path);
        return 1;
    }
    return atoi(code + 7);
}

/* ---- docker-proxy ---------------------------------------------------------------------- */

/* Copy both directions as Docker's proxy does (io.Copy per direction): when one direction ends (EOF,
 * or an error writing), shut down the reading side of its source and the writing side of its
 * destination, and keep the other direction going; a client that half-closes still gets the reply. */
static void relay(int a, int b) {
    int fds[2] = {a, b};
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    char buf[65536];
    int open_ends = 2;
    while (open_ends) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i], buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n > 0 && !write_all(fds[1 - i], buf, n)) continue;
            shutdown(fds[i], SHUT_RD);
            shutdown(fds[1 - i], SHUT_WR);
            p[i].fd = -1;
            open_ends--;
        }
    }
}

static int fill_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((unsigned short)port);
        *len = sizeof *in4;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        *len = sizeof *in6;
        return AF_INET6;
    }
    return -1;
}

static void report(const char *status) {
    if (write(3, status, strlen(status)) < 0) return;
    close(3);
}

/* The backlog Go's net.Listen gives docker-proxy: net.core.somaxconn of the Docker host (read when it
 * listens; ss -ltn shows it as Send-Q), or syscall.SOMAXCONN (128) when that cannot be read. */
static int listen_backlog(void) {
    int n = 0;
    FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = 0;
        fclose(f);
    }
    return n > 0 ? (n > 65535 ? 65535 : n) : 128;
}

static int proxy_main(int argc, char **argv) {
    const char *proto = "tcp", *host_ip = "0.0.0.0", *ctr_ip = NULL;
    int host_port = 0, ctr_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "-proto")) proto = v;
        else if (!strcmp(k, "-host-ip")) host_ip = v;
        else if (!strcmp(k, "-host-port")) host_port = atoi(v);
        else if (!strcmp(k, "-container-ip")) ctr_ip = v;
        else if (!strcmp(k, "-container-port")) ctr_port = atoi(v);
    }
    struct sockaddr_storage listen_addr, target;
    socklen_t listen_len, target_len;
    int family = fill_addr(host_ip, host_port, &listen_addr, &listen_len);
    if (family < 0 || !ctr_ip || fill_addr(ctr_ip, ctr_port, &target, &target_len) < 0) {
        report("1\ninvalid arguments");
        return 1;
    }
    int udp = !strcmp(proto, "udp");
    int s = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr *)&listen_addr, listen_len) < 0 ||
        (!udp && listen(s, listen_backlog()) < 0)) {
        char err[256];
        snprintf(err, sizeof err, "1\n%s", strerror(errno));
        for (char *c = err + 2; *c; c++) *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        report(err);
        return 1;
    }
    report("0\n");
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN); /* a reset peer ends one direction (EPIPE), not the whole relay */
    if (!udp) {
        for (;;) {
            int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
            if (c < 0) continue;
            if (fork() == 0) {
                close(s);
                int u = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (connect(u, (struct sockaddr *)&target, target_len) == 0) relay(c, u);
                _exit(0);
            }
            close(c);
        }
    }
    /* UDP: one upstream socket per client, idle flows closed after 90 s (as docker-proxy does). */
    enum { MAX_FLOWS = 256 };
    struct { struct sockaddr_storage peer; socklen_t len; int fd; time_t seen; } flows[MAX_FLOWS] = {0};
    char buf[65536];
    for (;;) {
        struct pollfd p[MAX_FLOWS + 1];
        int map[MAX_FLOWS + 1], n = 0;
        p[n].fd = s, p[n].events = POLLIN, map[n++] = -1;
        time_t now = time(NULL);
        for (int i = 0; i < MAX_FLOWS; i++) {
            if (flows[i].fd > 0 && now - flows[i].seen > 90) close(flows[i].fd), flows[i].fd = 0;
            if (flows[i].fd > 0) p[n].fd = flows[i].fd, p[n].events = POLLIN, map[n++] = i;
        }
        if (poll(p, (nfds_t)n, 10000) <= 0) continue;
        if (p[0].revents & POLLIN) {
            struct sockaddr_storage peer;
            socklen_t plen = sizeof peer;
            ssize_t got = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
            if (got >= 0) {
                int slot = -1, free_slot = -1;
                for (int i = 0; i < MAX_FLOWS; i++) {
                    if (flows[i].fd > 0 && flows[i].len == plen && !memcmp(&flows[i].peer, &peer, plen)) slot = i;
                    if (flows[i].fd <= 0 && free_slot < 0) free_slot = i;
                }
                if (slot < 0 && free_slot >= 0) {
                    slot = free_slot;
                    flows[slot].peer = peer, flows[slot].len = plen;
                    flows[slot].fd = socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                    connect(flows[slot].fd, (struct sockaddr *)&target, target_len);
                }
                if (slot >= 0) {
                    flows[slot].seen = now;
                    if (send(flows[slot].fd, buf, (size_t)got, 0) < 0) continue;
                }
            }
        }
        for (int j = 1; j < n; j++) {
            if (!(p[j].revents & POLLIN)) continue;
            int i = map[j];
            ssize_t got = recv(flows[i].fd, buf, sizeof buf, 0);
            if (got >= 0) sendto(s, buf, (size_t)got, 0, (struct sockaddr *)&flows[i].peer, flows[i].len);
            flows[i].seen = now;
        }
    }
}

/* ---- init ------------------------------------------------------------------------------ */

static int init_main(void) {
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
static int load_filter(int fd) {
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
static void default_signals(void) {
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
static int load_filter(int fd);

static int enter_main(int argc, char **argv) {
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

/* ---- nslab-pty ------------------------------------------------------------------------- */

/* nslab-pty COMMAND...: run COMMAND as the leader of a new session on a new pseudo-terminal of the
 * sandbox's own /dev/pts (so that `tty` names it), and relay that terminal to stdin and stdout, raw;
 * window size changes of stdin (SIGWINCH) are passed on. When stdin hangs up (the lab's terminal
 * closed) it closes the pty, which the kernel then hangs up: COMMAND's session gets SIGHUP, as when
 * an ssh connection drops. (`script` did the relaying, but it blocks SIGHUP and only types an EOF
 * there, which a running job never reads: the job and the shell outlived the terminal.) */
static int pty_main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: nslab-pty COMMAND...\n", stderr);
        return 2;
    }
    /* Signals first: a size change from here on is a SIGWINCH read below, never one lost. */
    sigset_t watched;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    sigaddset(&watched, SIGWINCH);
    sigprocmask(SIG_BLOCK, &watched, NULL);
    int sigfd = signalfd(-1, &watched, SFD_CLOEXEC);
    struct termios attrs;
    struct winsize ws;
    int term = tcgetattr(0, &attrs) == 0;
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    const char *slave_name = master < 0 || grantpt(master) || unlockpt(master) ? NULL : ptsname(master);
    if (!slave_name) {
        perror("nslab-pty: a pseudo-terminal");
        return 126;
    }
    /* The size goes on the master, here: a child setting it on the slave later could undo a newer
     * size that a SIGWINCH already passed on. */
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    pid_t child = fork();
    if (child < 0) {
        perror("nslab-pty: fork");
        return 126;
    }
    if (child == 0) {
        sigprocmask(SIG_UNBLOCK, &watched, NULL);
        setsid();
        int slave = open(slave_name, O_RDWR); /* a session leader's first terminal: its controlling one */
        if (slave < 0) _exit(126);
        if (term) tcsetattr(slave, TCSANOW, &attrs);
        dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
        if (slave > 2) close(slave);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "nslab-pty: %s: %s\n", argv[1], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    if (term) {
        struct termios raw = attrs;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
    }
    struct pollfd p[3] = {
        {.fd = sigfd, .events = POLLIN}, {.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    char buf[65536];
    int status = 0;
    for (;;) {
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        struct signalfd_siginfo si;
        if ((p[0].revents & POLLIN) && read(sigfd, &si, sizeof si) == sizeof si) {
            if (si.ssi_signo == SIGWINCH && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
            if (waitpid(child, &status, WNOHANG) == child) break;
        }
        if (p[1].revents) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) write_all(1, buf, n);
            else p[1].fd = -1; /* no slave left open: the command's exit comes next */
        }
        if (p[2].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n <= 0) return 129; /* hung up: exiting closes the pty (128 + SIGHUP, as a shell would) */
            write_all(master, buf, n);
        }
    }
    /* What the command wrote last, without waiting for what its leftover children may still write. */
    for (int i = 0; p[1].fd >= 0 && i < 64 && poll(&p[1], 1, 0) == 1; i++) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0) break;
        write_all(1, buf, n);
    }
    if (term) tcsetattr(0, TCSADRAIN, &attrs);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- nslab-sockets --------------------------------------------------------------------- */

/* nslab-sockets: fd 0 is a SOCK_SEQPACKET unix socket to the daemon. Each request is one message
 * "KIND NETNS [ADDR PORT]" (KIND: udp, tcp: bound to ADDR:PORT, tcp also listening; udp-client,
 * tcp-client: unbound); the answer is "0 PORT" with the new socket attached, or "E TEXT". A socket
 * keeps the network namespace it was made in: the daemon serves Docker's embedded DNS on sockets
 * inside containers without a process of its own there. Run in the sandbox's outer user namespace
 * (where it may enter every namespace of the sandbox), it exits when the daemon closes fd 0. */
static int make_socket(const char *kind, const char *addr, int port, int *bound) {
    int tcp = !strncmp(kind, "tcp", 3), client = strstr(kind, "-client") != NULL;
    int s = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (s < 0 || client) return s;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof sin;
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) errno = EINVAL;
    else if (bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 && (!tcp || listen(s, 128) == 0) &&
             getsockname(s, (struct sockaddr *)&sin, &len) == 0) {
        *bound = ntohs(sin.sin_port);
        return s;
    }
    int saved = errno;
    close(s);
    errno = saved;
    return -1;
}

static int sockets_main(void) {
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    char req[512], kind[16], path[256], addr[64], reply[128];
    for (;;) {
        ssize_t n = recv(0, req, sizeof req - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        req[n] = 0;
        int port = 0, bound = 0, s = -1;
        addr[0] = 0;
        if (sscanf(req, "%15s %255s %63s %d", kind, path, addr, &port) < 2) {
            errno = EINVAL;
        } else {
            int ns = open(path, O_RDONLY | O_CLOEXEC);
            if (ns >= 0 && setns(ns, CLONE_NEWNET) == 0) {
                s = make_socket(kind, addr, port, &bound);
                int saved = errno;
                if (setns(home, CLONE_NEWNET) != 0) return 1; /* never serve from a namespace not ours */
                errno = saved;
            }
            if (ns >= 0) close(ns);
        }
        struct iovec iov = {.iov_base = reply};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        char control[CMSG_SPACE(sizeof(int))];
        if (s >= 0) {
            iov.iov_len = (size_t)snprintf(reply, sizeof reply, "0 %d", bound);
            mh.msg_control = control;
            mh.msg_controllen = sizeof control;
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &s, sizeof s);
        } else {
            iov.iov_len = (size_t)snprintf(reply, sizeof reply, "E %s", strerror(errno));
        }
        if (sendmsg(0, &mh, MSG_NOSIGNAL) < 0) return 0;
        if (s >= 0) close(s);
    }
}

/* ---- nslab-dnsd ------------------------------------------------------------------------ */

/* nslab-dnsd NETNS ADDR LOG NAME=IP...: the outside world's DNS server, on ADDR:53 (UDP, TCP) in the
 * network namespace NETNS (a path, entered first: no nsenter to start). It answers A
 * queries for its NAMEs and PTR queries for their addresses (the first name of each), NOERROR
 * without answers for a known name's other types, NXDOMAIN for the rest; it logs each query's
 * source address, type and name to LOG, so that a lab can show who asked (MASQUERADE or not). */
#define DNS_MAX_NAMES 16
static struct { char name[128]; char ptr[64]; uint8_t ip[4]; } zone[DNS_MAX_NAMES];
static int zone_len;

/* The query's name, dotted and lowercase, into out; the offset after it, or -1. */
static int dns_qname(const uint8_t *m, int len, char *out, int cap) {
    int off = 12, o = 0;
    while (off < len && m[off]) {
        int l = m[off];
        if (l > 63 || off + 1 + l > len || o + l + 2 > cap) return -1;
        if (o) out[o++] = '.';
        for (int i = 0; i < l; i++) {
            char c = (char)m[off + 1 + i];
            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        off += 1 + l;
    }
    if (off + 5 > len) return -1;
    out[o] = 0;
    return off + 1;
}

static int dns_put_name(uint8_t *m, int off, int cap, const char *name) {
    while (*name) {
        const char *dot = strchr(name, '.');
        int l = dot ? (int)(dot - name) : (int)strlen(name);
        if (l > 63 || off + 1 + l >= cap) return -1;
        m[off++] = (uint8_t)l;
        memcpy(m + off, name, (size_t)l);
        off += l;
        name += l + (dot != NULL);
    }
    if (off >= cap) return -1;
    m[off++] = 0;
    return off;
}

/* Turn the query in m (len bytes, room for 512) into its answer in place: its length, or -1 to
 * ignore it. Logs the asker's address, the type and the name. */
static int dns_reply(uint8_t *m, int got, const struct sockaddr_in *peer, int log) {
    if (got < 17 || (m[2] & 0x80) || m[4] || m[5] != 1) return -1; /* one question, queries only */
    char name[256];
    int end = dns_qname(m, got, name, sizeof name);
    if (end < 0) return -1;
    int qtype = m[end] << 8 | m[end + 1];
    char who[INET_ADDRSTRLEN], line[400], type[8];
    inet_ntop(AF_INET, &peer->sin_addr, who, sizeof who);
    snprintf(type, sizeof type, "%s", qtype == 1 ? "A" : qtype == 28 ? "AAAA" : qtype == 12 ? "PTR" : "");
    if (!type[0]) snprintf(type, sizeof type, "%d", qtype);
    int n = snprintf(line, sizeof line, "%s:%d %s %s\n", who, ntohs(peer->sin_port), type, name);
    if (log >= 0 && n > 0) write_all(log, line, n < (int)sizeof line ? n : (int)sizeof line - 1);
    int len = end + 4, known = 0;
    m[2] = (uint8_t)(0x80 | (m[2] & 0x79)); /* QR, opcode and RD kept */
    m[3] = 0x80;                            /* RA: it plays the network's recursive resolver */
    memset(m + 6, 0, 6);                    /* no answers, authority or additional records yet */
    for (int i = 0; i < zone_len; i++) {
        int by_name = !strcmp(name, zone[i].name), by_ptr = !strcmp(name, zone[i].ptr);
        if (!by_name && !by_ptr) continue;
        known = 1;
        if ((by_name && qtype != 1) || (by_ptr && qtype != 12)) break;
        uint8_t rr[10] = {0xc0, 12, 0, (uint8_t)qtype, 0, 1, 0, 0, 0x0e, 0x10}; /* TTL 3600 */
        if (len + 12 + 4 > 512) break;
        memcpy(m + len, rr, sizeof rr);
        int rdata = len + 12, stop = rdata + 4;
        if (by_name) memcpy(m + rdata, zone[i].ip, 4);
        else if ((stop = dns_put_name(m, rdata, 512, zone[i].name)) < 0) break;
        m[len + 10] = (uint8_t)((stop - rdata) >> 8), m[len + 11] = (uint8_t)(stop - rdata);
        len = stop;
        m[7] = 1;
        break;
    }
    if (!known) m[3] |= 3; /* NXDOMAIN */
    return len;
}

static int dnsd_main(int argc, char **argv) {
    if (argc < 4) {
        fputs("usage: nslab-dnsd NETNS ADDR LOG NAME=IP...\n", stderr);
        return 2;
    }
    int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        perror("nslab-dnsd: entering the network namespace");
        return 1;
    }
    close(ns);
    argc--, argv++;
    for (int i = 3; i < argc && zone_len < DNS_MAX_NAMES; i++) {
        char *eq = strchr(argv[i], '=');
        struct in_addr a;
        if (!eq || eq - argv[i] >= (long)sizeof zone[0].name || inet_pton(AF_INET, eq + 1, &a) != 1) continue;
        memcpy(zone[zone_len].name, argv[i], (size_t)(eq - argv[i]));
        memcpy(zone[zone_len].ip, &a, 4);
        const uint8_t *b = zone[zone_len].ip;
        snprintf(zone[zone_len].ptr, sizeof zone[0].ptr, "%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0]);
        zone_len++;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (udp < 0 || tcp < 0 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
        bind(udp, (struct sockaddr *)&sin, sizeof sin) || bind(tcp, (struct sockaddr *)&sin, sizeof sin) ||
        listen(tcp, 16)) {
        perror("nslab-dnsd");
        return 1;
    }
    int log = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct pollfd p[2] = {{.fd = udp, .events = POLLIN}, {.fd = tcp, .events = POLLIN}};
    uint8_t m[514]; /* a TCP message's length, then the message */
    for (;;) {
        if (poll(p, 2, -1) < 0) continue;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        if (p[0].revents) {
            ssize_t got = recvfrom(udp, m, 512, 0, (struct sockaddr *)&peer, &plen);
            int len = got > 0 ? dns_reply(m, (int)got, &peer, log) : -1;
            if (len > 0) sendto(udp, m, (size_t)len, 0, (struct sockaddr *)&peer, plen);
        }
        if (p[1].revents) { /* one query a connection; a silent client gets a second, then is dropped */
            int c = accept4(tcp, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
            if (c < 0) continue;
            struct timeval tv = {.tv_sec = 1};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ssize_t got = recv(c, m, sizeof m, 0);
            int want = got >= 2 ? (m[0] << 8 | m[1]) : -1, have = (int)got - 2;
            while (want > 0 && want <= 512 && have < want) {
                ssize_t n = recv(c, m + 2 + have, (size_t)(want - have), 0);
                if (n <= 0) break;
                have += (int)n;
            }
            int len = want > 0 && have == want ? dns_reply(m + 2, want, &peer, log) : -1;
            if (len > 0) {
                m[0] = (uint8_t)(len >> 8), m[1] = (uint8_t)len;
                write_all(c, (const char *)m, len + 2);
            }
            close(c);
        }
    }
}

/* ---- nslab-sysfs ----------------------------------------------------------------------- */

/* nslab-sysfs PID BLOCKED: once the container PID (bwrap's child, building its root) waits on its
 * --block-fd (/proc/PID/syscall starts with BLOCKED, e.g. "0 0x9"), enter its network and mount
 * namespaces and its root, and put a read-only sysfs of its network namespace on /sys, as Docker
 * does. The kernel lets a user namespace mount a sysfs only where one is visible already (bwrap
 * binds the Docker host's on /sys): mount it beside, then move it into the place of the host's,
 * so that the container's mount table shows one sysfs. One process instead of a dozen of shell. */
static int sysfs_main(int argc, char **argv) {
    if (argc != 3) {
        fputs("usage: nslab-sysfs PID BLOCKED\n", stderr);
        return 2;
    }
    char path[64], buf[128];
    size_t want = strlen(argv[2]);
    snprintf(path, sizeof path, "/proc/%s/syscall", argv[1]);
    for (int i = 0;; i++) { /* bwrap sets up in a few ms; give up after 5 s */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0) close(fd);
        if (n < 0) {
            fprintf(stderr, "nslab-sysfs: %s: %s\n", path, strerror(errno));
            return 1;
        }
        buf[n] = 0;
        if (!strncmp(buf, argv[2], want) && buf[want] == ' ') break;
        if (i == 25000) {
            fputs("nslab-sysfs: the container was not set up in time\n", stderr);
            return 1;
        }
        usleep(200); /* a read of the file costs microseconds; the mount waits at most this long */
    }
    static const char *const spaces[] = {"net", "mnt"};
    int fds[2], root;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/%s/ns/%s", argv[1], spaces[i]);
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) goto fail;
    }
    snprintf(path, sizeof path, "/proc/%s/root", argv[1]);
    if ((root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    if (setns(fds[0], CLONE_NEWNET) || setns(fds[1], CLONE_NEWNS) || fchdir(root) || chroot(".")) goto fail;
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mkdir("/run/.sysfs", 0700) || mount("sysfs", "/run/.sysfs", "sysfs", flags, NULL) ||
        umount2("/sys", MNT_DETACH) || mount("/run/.sysfs", "/sys", NULL, MS_MOVE, NULL) || rmdir("/run/.sysfs"))
        goto fail;
    return 0;
fail:
    perror("nslab-sysfs");
    return 1;
}

/* ---- nslab-confine --------------------------------------------------------------------- */

/* Enter the namespaces, root and working directory of process PID, as `nsenter -t PID -U -n -p -m
 * -u -i -r -w` does, and fork (a pid namespace takes its members from the next fork): -1 in the child,
 * which goes on; the parent waits and returns the child's status, 128+N for a signal N as Docker
 * reports it (126 when it could not enter). */
static int join_container(const char *pid) {
    static const char *const spaces[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
    int fds[6], root, cwd;
    char path[64];
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, spaces[i]);
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) goto fail;
    }
    snprintf(path, sizeof path, "/proc/%s/root", pid);
    if ((root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    snprintf(path, sizeof path, "/proc/%s/cwd", pid);
    if ((cwd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    for (int i = 0; i < 6; i++)
        if (setns(fds[i], 0) || close(fds[i])) goto fail;
    if (fchdir(root) || chroot(".") || fchdir(cwd)) goto fail;
    close(root), close(cwd);
    pid_t child = fork();
    if (child < 0) goto fail;
    if (child == 0) return -1;
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return 126;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); /* as docker exec says */
fail:
    perror("nslab-confine: entering the container");
    return 126;
}

/* nslab-confine [-t PID] [-p PROGRAM] CAPS INHERITABLE FILTER_FD NO_NEW_PRIVS -- COMMAND...: what runc
 * does to a container process before it execs the image's program. CAPS and INHERITABLE are hex capability masks (the
 * bounding, permitted and effective sets get CAPS; ambient is emptied); FILTER_FD, unless -1, is a
 * file holding a compiled seccomp filter (struct sock_filter[]), read with pread: the daemon keeps one
 * open file for many containers. The filter is loaded first, while CAP_SYS_ADMIN is still held, so that
 * NO_NEW_PRIVS (1 for --security-opt no-new-privileges) stays as Docker leaves it. It runs as the
 * daemon passed it, /proc/self/fd/N (the container's root has no path to it): that fd is not inherited.
 * With -t (docker exec) it joins container PID first, in place of nsenter. With -p it runs PROGRAM
 * with COMMAND as its argv (a busybox applet under its own name, as the images' /bin/sleep is). */
static int confine_main(int argc, char **argv) {
    const char *program = NULL;
    if (argc > 2 && !strcmp(argv[1], "-t")) { /* docker exec: first join the container */
        int status = join_container(argv[2]);
        if (status >= 0) return status; /* the parent, with its child's status */
        argc -= 2, argv += 2;
    }
    if (argc > 2 && !strcmp(argv[1], "-p")) {
        program = argv[2];
        argc -= 2, argv += 2;
    }
    if (argc < 7 || strcmp(argv[5], "--")) {
        fputs("usage: nslab-confine [-t PID] [-p PROGRAM] CAPS INHERITABLE FILTER_FD NO_NEW_PRIVS -- COMMAND...\n",
              stderr);
        return 2;
    }
    unsigned long long caps = strtoull(argv[1], NULL, 16), inh = strtoull(argv[2], NULL, 16);
    int filter = atoi(argv[3]);
    if (atoi(argv[4]) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) goto fail;
    if (filter >= 0 && (load_filter(filter) || close(filter))) goto fail;
    for (int cap = 0; cap < 64; cap++)
        if (!(caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL) break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct head = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2] = {
        {.effective = (unsigned)caps, .permitted = (unsigned)caps, .inheritable = (unsigned)inh},
        {.effective = (unsigned)(caps >> 32), .permitted = (unsigned)(caps >> 32), .inheritable = (unsigned)(inh >> 32)},
    };
    if (syscall(SYS_capset, &head, data)) goto fail;
    if (!program) program = argv[6];
    execvp(program, argv + 6);
    fprintf(stderr, "exec %s: %s\n", program, strerror(errno));
    return errno == ENOENT ? 127 : 126;
fail:
    perror("nslab-confine");
    return 126;
}

/* ---- nginx, httpd: the images' web servers --------------------------------------------- */

/* nslab-web SERVER ROOT -- ARGV...: the nginx or httpd image's server (a container's program, run as
 * /proc/self/fd/N). It listens as SERVER does, as `ss -ltn` shows it: nginx's default.conf (with the
 * `listen [::]:80` its entrypoint adds) on 0.0.0.0:80 and a v6-only [::]:80, httpd's `Listen 80` on
 * one dual-stack [::]:80, with their backlog 511 (NGX_LISTEN_BACKLOG, ListenBacklog). It forks the
 * workers (nginx: one per CPU, `worker_processes auto`; httpd: StartServers 3) and becomes the master
 * under ARGV, the command line the server's master shows in `ps`: nginx's writes it over its argv (as
 * nginx's ngx_setproctitle does, NUL-padded), httpd's execs itself (/proc/self/exe) as ARGV (Apache
 * keeps its argv as it is). So the first page is served as soon as the server listens, with no exec on
 * the way. Workers are forks, as the servers' are: they run as the servers' users (nginx 101, daemon 1)
 * titled "nginx: worker process" (over argv) or with the master's argv (httpd). The master starts new
 * ones when one dies and exits 0 on the signals that stop the server. A worker answers each request
 * (web_serve: ROOT's files, the server's headers). Fds, from 3: the listeners, ROOT (O_PATH), the read
 * and write ends of a pipe that tells the workers when the master is gone (as Apache's "pipe of death";
 * a worker closes the write end), and in httpd's master as it starts, a pipe of the first workers' pids. */
#define WEB_FD 3

static int web_listen(int i, int nginx) {
    const char *ip = nginx && i == 0 ? "0.0.0.0" : "::";
    int v6only = nginx, one = 1;
    struct sockaddr_storage ss;
    socklen_t len;
    int family = fill_addr(ip, 80, &ss, &len), fd = socket(family, SOCK_STREAM, 0);
    if (fd >= 0 && family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) &&
        !bind(fd, (struct sockaddr *)&ss, len) && !listen(fd, 511) && dup2(fd, WEB_FD + i) >= 0) {
        if (fd != WEB_FD + i) close(fd);
        return 0;
    }
    int err = errno;
    const char *shown = family == AF_INET ? "0.0.0.0:80" : "[::]:80";
    if (nginx) fprintf(stderr, "nginx: [emerg] bind() to %s failed (%d: %s)\n", shown, err, strerror(err));
    else
        fprintf(stderr,
                "(%d)%s: AH00072: make_sock: could not bind to address %s\n"
                "no listening sockets available, shutting down\nAH00015: Unable to open logs\n",
                err, strerror(err), shown);
    return -1;
}

/* The images' servers as `curl -i` shows them: nginx:latest f6d0b4767a6c is nginx 1.19.6, httpd:latest
 * 683a7aad17d3 Apache 2.4.46; their headers in their order, their error pages, `Connection: close`. */
static const char *web_type(const char *path) {
    static const char *types[][2] = {{"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
        {"js", "application/javascript"}, {"txt", "text/plain"}, {"json", "application/json"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"gif", "image/gif"}, {"svg", "image/svg+xml"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && !strchr(dot, '/') && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot + 1, types[i][0])) return types[i][1];
    return "application/octet-stream"; /* nginx's default_type */
}

static void web_error(FILE *out, int nginx, int code, const char *date, const char *location, int head) {
    const char *reason = code == 301 ? "Moved Permanently" : code == 400 ? "Bad Request" : code == 403 ? "Forbidden"
                         : code == 404                     ? "Not Found"
                         : nginx                           ? "Not Allowed"
                                                           : "Method Not Allowed",
               *apache = code == 301   ? "The document has moved."
                         : code == 400 ? "Your browser sent a request that this server could not understand."
                         : code == 403 ? "You don't have permission to access this resource."
                         : code == 404 ? "The requested URL was not found on this server."
                                       : "The requested method is not allowed for this URL.";
    char body[512], where[4300] = "";
    int n;
    if (location) snprintf(where, sizeof where, "Location: %s\r\n", location);
    if (nginx)
        n = snprintf(body, sizeof body,
                     "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
                     "<hr><center>nginx/1.19.6</center>\r\n</body>\r\n</html>\r\n",
                     code, reason, code, reason);
    else
        n = snprintf(body, sizeof body,
                     "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n"
                     "</head><body>\n<h1>%s</h1>\n<p>%s</p>\n</body></html>\n",
                     code, reason, reason, apache);
    if (nginx)
        fprintf(out,
                "HTTP/1.1 %d %s\r\nServer: nginx/1.19.6\r\nDate: %s\r\nContent-Type: text/html\r\n"
                "Content-Length: %d\r\n%sConnection: close\r\n\r\n",
                code, reason, date, n, where);
    else
        fprintf(out,
                "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Apache/2.4.46 (Unix)\r\n%sContent-Length: %d\r\n"
                "Connection: close\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n",
                code, reason, date, where, n);
    if (!head) fwrite(body, 1, (size_t)n, out);
}

/* One HTTP/1.0 or 1.1 request on CONN: GET or HEAD of a file under the working directory (the web
 * root; a directory's index.html), answered and closed. In the worker itself (WORKER) when the request
 * came whole (a read cannot block), but a body larger than a socket's first send buffer is sent from a
 * child of the worker: a client that does not read stops no worker. */
#define WEB_INLINE_BODY 16384
static void web_serve(int conn, int nginx, int worker) {
    struct timeval timeout = {.tv_sec = 60}; /* nginx's client_header_timeout, Apache's Timeout */
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    char req[8192], date[64], modified[64], method[16], target[4096], path[4200];
    size_t len = 0;
    for (ssize_t n; len < sizeof req - 1 && (n = read(conn, req + len, sizeof req - 1 - len)) > 0;) {
        req[len += (size_t)n] = 0;
        if (memmem(req, len, "\r\n\r\n", 4) || memmem(req, len, "\n\n", 2)) break; /* as the worker's peek */
    }
    if (!len) {
        close(conn);
        return;
    }
    time_t now = time(NULL);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
    FILE *out = fdopen(conn, "w");
    if (!out) {
        close(conn);
        return;
    }
    int head = 0, code = 0, fd = -1;
    pid_t child = -1;
    struct stat st;
    if (sscanf(req, "%15s %4095s HTTP/1.%*d", method, target) != 2 || target[0] != '/') code = 400;
    else if (!(head = !strcmp(method, "HEAD")) && strcmp(method, "GET")) code = 405;
    if (!code) {
        size_t k = 0; /* the path: query cut, %XX decoded, never above the root */
        for (const char *t = target; *t && *t != '?' && *t != '#' && k < sizeof path - 16; t++) {
            unsigned hex;
            if (*t == '%' && sscanf(t + 1, "%2x", &hex) == 1 && hex) path[k++] = (char)hex, t += 2;
            else path[k++] = *t;
        }
        path[k] = 0;
        if (strstr(path, "/../") || (k >= 3 && !strcmp(path + k - 3, "/.."))) code = 400;
        else {
            if (path[k - 1] == '/') strcpy(path + k, "index.html");
            const char *rel = path + strspn(path, "/"); /* "//etc/passwd" is under the root too */
            fd = open(*rel ? rel : ".", O_RDONLY | O_CLOEXEC);
            if (fd < 0) code = errno == EACCES ? 403 : 404;
            else if (fstat(fd, &st) || !S_ISREG(st.st_mode)) code = S_ISDIR(st.st_mode) ? 301 : 404;
        }
    }
    if (code) {
        if (code == 301) strcat(path, "/");
        web_error(out, nginx, code, date, code == 301 ? path : NULL, head);
    } else if ((child = worker && !head && st.st_size > WEB_INLINE_BODY ? fork() : -1) > 0) {
        fclose(out); /* the child answers */
        close(fd);
        return;
    } else {
        strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&st.st_mtime));
        long long size = (long long)st.st_size;
        long long usec = (long long)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000; /* Apache's ETag */
        if (nginx)
            fprintf(out, "HTTP/1.1 200 OK\r\nServer: nginx/1.19.6\r\nDate: %s\r\nContent-Type: %s\r\n"
                         "Content-Length: %lld\r\nLast-Modified: %s\r\nConnection: close\r\nETag: \"%llx-%llx\"\r\n"
                         "Accept-Ranges: bytes\r\n\r\n", date, web_type(path), size, modified,
                    (long long)st.st_mtime, size);
        else
            fprintf(out, "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: Apache/2.4.46 (Unix)\r\nLast-Modified: %s\r\n"
                         "ETag: \"%llx-%llx\"\r\nAccept-Ranges: bytes\r\nContent-Length: %lld\r\nConnection: close\r\n"
                         "Content-Type: %s\r\n\r\n", date, modified, size, usec, size, web_type(path));
        fflush(out);
        for (off_t off = 0; !head && off < st.st_size;)
            if (sendfile(conn, fd, &off, (size_t)(st.st_size - off)) <= 0) break;
    }
    fflush(out);
    shutdown(conn, SHUT_WR);
    fclose(out);
    if (fd >= 0) close(fd);
    if (child == 0) _exit(0);
}

/* The signals that stop the server, and SIGCHLD: the master reads them from a signalfd. nginx: TERM
 * and INT stop it fast, QUIT gracefully; httpd: TERM and INT, WINCH gracefully. */
static void web_signals(int nginx, sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, nginx ? SIGQUIT : SIGWINCH);
    sigaddset(set, SIGCHLD);
}

static char *web_nginx_title[] = {"nginx: worker process", NULL};
static char **web_area; /* main's argv: the strings a worker's title overwrites */

/* TITLE's strings written over main's argv, NUL-padded, as nginx's ngx_setproctitle does: what `ps` and
 * /proc/PID/cmdline show. Nothing when TITLE is that argv. */
static void web_title(int nginx, char **title) {
    prctl(PR_SET_NAME, nginx ? "nginx" : "httpd");
    if (title == web_area) return;
    char *start = web_area[0], *end = start;
    for (char **a = web_area; *a; a++) end = *a + strlen(*a) + 1;
    char *text = calloc(1, (size_t)(end - start)), *at = text;
    for (char **t = title; text && *t && at + strlen(*t) < text + (end - start); t++) at = stpcpy(at, *t) + 1;
    if (text) memcpy(start, text, (size_t)(end - start));
    free(text);
}

/* A worker, forked by nslab-web or the master, titled TITLE. */
static void web_worker(int listeners, int nginx, char **title) {
    int root = WEB_FD + listeners, pod = root + 1;
    sigset_t stop;
    web_signals(nginx, &stop);
    sigprocmask(SIG_UNBLOCK, &stop, NULL);
    syscall(SYS_close_range, pod + 1, ~0U, 0);
    web_title(nginx, title);
    if (fchdir(root)) _exit(1);
    close(root);
    gid_t id = nginx ? 101 : 1;
    if (!setgroups(0, NULL) && !setgid(id)) setuid(id); /* as root when the container may not change ids */
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN); /* a client gone before its answer */
    struct pollfd p[3];
    for (int i = 0; i <= listeners; i++) {
        p[i] = (struct pollfd){.fd = i < listeners ? WEB_FD + i : pod, .events = POLLIN};
        if (i < listeners) fcntl(p[i].fd, F_SETFL, O_NONBLOCK); /* the workers race for each connection */
    }
    for (;;) {
        if (poll(p, listeners + 1, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (p[listeners].revents) _exit(0); /* the master is gone */
        for (int i = 0; i < listeners; i++) {
            int conn = p[i].revents & POLLIN ? accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC) : -1;
            if (conn < 0) continue;
            char peek[8192];
            ssize_t n = recv(conn, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
            if (n > 0 && (memmem(peek, (size_t)n, "\r\n\r\n", 4) || memmem(peek, (size_t)n, "\n\n", 2))) {
                web_serve(conn, nginx, 1);
                continue;
            }
            if (fork() == 0) { /* the request is still to come: a child waits for it */
                for (int k = 0; k <= listeners; k++) close(p[k].fd);
                signal(SIGCHLD, SIG_DFL);
                web_serve(conn, nginx, 0);
                _exit(0);
            }
            close(conn);
        }
    }
}

static pid_t web_spawn(int listeners, int nginx, char **title) {
    pid_t pid = fork();
    if (pid == 0) web_worker(listeners, nginx, title);
    return pid > 0 ? pid : 0;
}

static int web_count(int nginx) {
    long count = nginx ? sysconf(_SC_NPROCESSORS_ONLN) : 3;
    return count < 1 ? 1 : count > 64 ? 64 : (int)count;
}


/* The master: starts a worker (titled TITLE) in place of one that died; on a signal that stops the
 * server, stops the workers and returns 0. The stop signals and SIGCHLD are blocked (since nslab-web). */
static int web_master(int listeners, int nginx, pid_t *workers, char **title) {
    int count = web_count(nginx);
    sigset_t stop;
    web_signals(nginx, &stop);
    int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sfd < 0) return 1;
    for (;;) {
        for (int i = 0; i < count; i++)
            if (!workers[i]) workers[i] = web_spawn(listeners, nginx, title);
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo != SIGCHLD) break;
        for (pid_t pid; (pid = waitpid(-1, NULL, WNOHANG)) > 0;) /* workers, and orphans: it is pid 1 */
            for (int i = 0; i < count; i++)
                if (workers[i] == pid) workers[i] = 0;
    }
    for (int i = 0; i < count; i++)
        if (workers[i]) kill(workers[i], SIGTERM);
    for (int i = 0; i < count; i++) /* its exit ends the rest of the container (a client's connection) */
        while (workers[i] && waitpid(workers[i], NULL, 0) < 0 && errno == EINTR) continue;
    return 0;
}

/* FD at WANT (close-on-exec or not); -1 when it cannot be */
static int web_fd(int fd, int want, int cloexec) {
    if (fd < 0) return -1;
    if (fd == want) return fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0);
    int r = dup3(fd, want, cloexec ? O_CLOEXEC : 0);
    close(fd);
    return r < 0 ? -1 : 0;
}

static int web_main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--")) {
        fputs("usage: nslab-web nginx|httpd ROOT -- ARGV...\n", stderr);
        return 2;
    }
    int nginx = !strcmp(argv[1], "nginx"), listeners = nginx ? 2 : 1, root = WEB_FD + listeners;
    for (int fd; (fd = open("/dev/null", O_RDWR)) >= 0;) /* 0 to 2 open: the pipes below get no fd of those */
        if (fd >= WEB_FD) {
            close(fd);
            break;
        }
    for (int i = 0; i < listeners; i++)
        if (web_listen(i, nginx)) return 1; /* as both servers do when they cannot listen */
    syscall(SYS_close_range, root, ~0U, 0);
    int pod[2], pids[2];
    sigset_t stop;
    web_signals(nginx, &stop);
    sigprocmask(SIG_BLOCK, &stop, NULL); /* kept pending through the exec, for the master */
    if (web_fd(open(argv[2], O_PATH | O_DIRECTORY), root, 0)) {
        perror(argv[2]);
        return 1;
    }
    if (pipe(pod) || web_fd(pod[0], root + 1, 0) || web_fd(pod[1], root + 2, 1) ||
        (!nginx && (pipe(pids) || web_fd(pids[0], root + 3, 0) || web_fd(pids[1], root + 4, 1)))) {
        perror("nslab-web: pipe");
        return 1;
    }
    pid_t workers[64] = {0};
    int count = web_count(nginx);
    for (int i = 0; i < count; i++) workers[i] = web_spawn(listeners, nginx, nginx ? web_nginx_title : argv + 4);
    if (nginx) { /* nginx's master titles itself too */
        web_title(nginx, argv + 4);
        return web_master(listeners, nginx, workers, web_nginx_title);
    }
    write_all(root + 4, (const char *)workers, (ssize_t)(count * sizeof *workers));
    close(root + 4);
    fcntl(root + 2, F_SETFD, 0);
    execv("/proc/self/exe", argv + 4);
    perror("nslab-web: exec");
    return 126;
}

/* httpd's parent, exec'd by nslab-web under the server's own command line ARGV (Apache leaves its argv
 * as it is): the first children's pids come on fd ROOT + 3. */
static int web_httpd_main(char **argv) {
    int root = WEB_FD + 1;
    pid_t workers[64] = {0};
    for (ssize_t n; (n = read(root + 3, workers, sizeof workers)) < 0 && errno == EINTR;) continue;
    close(root + 3);
    fcntl(root + 2, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_NAME, "httpd");
    return web_master(1, 0, workers, argv);
}

/* ---- containerd-shim, dockerd, containerd ---------------------------------------------- */

/* dockerd, containerd: stand-ins for `ps` on the Docker host (the engine is the lab's daemon, outside
 * the sandbox). They wait, all signals blocked but SIGKILL and SIGSTOP. */
static int idle_main(void) {
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
static int shim_main(void) {
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
    if (!strcmp(name, "dockerd") || !strcmp(name, "containerd")) return idle_main();
    return docker_main(argc, argv);
}
