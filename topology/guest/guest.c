/*
 * nslab's programs inside a sandbox, one binary called by five names:
 *   docker        hands its argv and stdio to the emulated engine on /var/run/docker.sock
 *   docker-proxy  Docker's userland proxy: relays a published host port to a container
 *   init          pid 1 of the Docker host: reaps orphans and cannot be killed from inside
 *   nslab-enter   (daemon side) starts a sandbox process: joins its cgroups, becomes its root uid
 *   nslab-pty     the lab's terminal: runs the shell on a pty of the sandbox, hangs it up as sshd does
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
#include <sys/ioctl.h>
#include <sys/signalfd.h>
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
    return code ? atoi(code + 7) : 1;
}

/* ---- docker-proxy ---------------------------------------------------------------------- */

static void relay(int a, int b) {
    struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    char buf[65536];
    int open_ends = 2;
    while (open_ends) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            int other = p[1 - i].fd;
            if (n <= 0) {
                shutdown(other, SHUT_WR);
                p[i].fd = -p[i].fd - 1;
                open_ends--;
                continue;
            }
            if (write_all(other, buf, n)) return;
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
    if (s < 0 || bind(s, (struct sockaddr *)&listen_addr, listen_len) < 0 || (!udp && listen(s, 128) < 0)) {
        char err[256];
        snprintf(err, sizeof err, "1\n%s", strerror(errno));
        for (char *c = err + 2; *c; c++) *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        report(err);
        return 1;
    }
    report("0\n");
    signal(SIGCHLD, SIG_IGN);
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

/* nslab-enter UID [CGROUP_PROCS...] -- COMMAND...: join the sandbox's cgroups (write 0 to each
 * cgroup.procs), become UID (real, effective and saved uid and gid, no supplementary groups) unless
 * this process already is UID, reset the signals (default_signals), then exec COMMAND. The daemon
 * starts every sandbox process through it: Python can then vfork (no preexec_fn), and no shell or
 * setpriv (~3 ms) runs first. */
static int enter_main(int argc, char **argv) {
    char *end;
    int i;
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
    fputs("usage: nslab-enter UID [CGROUP_PROCS...] -- COMMAND...\n", stderr);
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

int main(int argc, char **argv) {
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (!strcmp(name, "init")) return init_main();
    if (!strcmp(name, "docker-proxy")) return proxy_main(argc, argv);
    if (!strcmp(name, "nslab-enter")) return enter_main(argc, argv);
    if (!strcmp(name, "nslab-pty")) return pty_main(argc, argv);
    return docker_main(argc, argv);
}
