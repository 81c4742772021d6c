#include "guest.h"

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

static void send_line(const char *line) {
    int saved = errno; /* also called from a signal handler */
    ssize_t n = write(engine, line, strlen(line));
    (void)n;
    errno = saved;
}

static void send_size(int sig) {
    (void)sig;
    struct winsize ws;
    char buf[64];
    if (ioctl(1, TIOCGWINSZ, &ws) == 0) {
        snprintf(buf, sizeof buf, "{\"size\":[%d,%d]}\n", ws.ws_col, ws.ws_row);
        send_line(buf);
    }
}

/* docker/cli's ForwardAllSignals (signals.go): every signal it can catch goes to the container with
 * ContainerKill, but SIGCHLD and SIGPIPE, and SIGURG, the Go runtime's own. Faults (SIGSEGV...) are
 * this program's own here. The engine's "proxy" word (topology/docker/terminal.py) turns it on. */
static void send_signal(int sig) {
    char buf[32];
    snprintf(buf, sizeof buf, "{\"signal\":%d}\n", sig);
    send_line(buf);
}

static void send_size_and_signal(int sig) { /* with a TTY, a resize is both (MonitorTtySize too) */
    send_size(sig);
    send_signal(sig);
}

static void proxy_signals(int tty) {
    struct sigaction sa = {.sa_handler = send_signal, .sa_flags = SA_RESTART};
    sigfillset(&sa.sa_mask); /* one line at a time */
    struct sigaction winch = sa;
    winch.sa_handler = send_size_and_signal;
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        switch (sig) {
        case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGPIPE: case SIGURG:
        case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS: case SIGABRT:
            continue;
        }
        if (sig < 32 || sig >= SIGRTMIN) sigaction(sig, tty && sig == SIGWINCH ? &winch : &sa, NULL);
    }
}

#define FILE_LIMIT (256 << 10) /* an --env-file's bytes, hex-encoded in one daemon message (1 MiB) */
#define ENV_LIMIT (128 << 10)

static void hex(FILE *f, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

static int unhex(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The daemon's "read HEXPATH": a file the command line names (--env-file), which the CLI reads on its
 * own side, the student's. Answers {"file":"HEX"}, or {"error":"open"|"read","errno":N}. */
static void send_file(const char *hexpath, size_t n) {
    char path[PATH_MAX];
    size_t len = n / 2;
    char *msg = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&msg, &size);
    for (size_t i = 0; i < len && i < sizeof path - 1; i++)
        path[i] = (char)(unhex(hexpath[2 * i]) << 4 | unhex(hexpath[2 * i + 1]));
    path[len < sizeof path - 1 ? len : sizeof path - 1] = 0;
    int fd = len < sizeof path ? open(path, O_RDONLY | O_CLOEXEC) : (errno = ENAMETOOLONG, -1);
    if (fd < 0) {
        fprintf(f, "{\"error\":\"open\",\"errno\":%d}\n", errno);
    } else {
        static unsigned char data[FILE_LIMIT + 1];
        size_t got = 0;
        ssize_t r = 1;
        while (got <= FILE_LIMIT && (r = read(fd, data + got, FILE_LIMIT + 1 - got)) != 0)
            if (r > 0) got += (size_t)r;
            else if (errno != EINTR) break;
        if (r < 0 || got > FILE_LIMIT) {
            fprintf(f, "{\"error\":\"read\",\"errno\":%d}\n", r < 0 ? errno : EFBIG);
        } else {
            fputs("{\"file\":\"", f);
            hex(f, data, got);
            fputs("\"}\n", f);
        }
        close(fd);
    }
    fclose(f);
    for (size_t off = 0; off < size;) {
        ssize_t w = write(engine, msg + off, size - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(msg);
}

int docker_main(int argc, char **argv) {
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
    /* The client's environment (a bare `-e NAME` and --env-file's NAME lines take their values there) */
    fputs("],\"env\":\"", f);
    size_t env_size = 0;
    for (char **e = environ; *e; e++) {
        size_t n = strlen(*e) + 1;
        if (env_size + n > ENV_LIMIT) continue;
        hex(f, (const unsigned char *)*e, n);
        env_size += n;
    }
    fprintf(f, "\",\"tty\":%s", tty ? "true" : "false");
    struct winsize ws; /* the console size a -t command's pty starts with */
    if (ioctl(1, TIOCGWINSZ, &ws) == 0) fprintf(f, ",\"size\":[%d,%d]", ws.ws_col, ws.ws_row);
    fputs("}\n", f);
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

    /* The engine answers {"exit":N}; before that, when it relays a pseudo-terminal, it says "raw" (-it:
     * the terminal goes raw, which this confirms with {"ready":true} before any output) or "tty" (-t
     * alone: the terminal stays cooked). Either way the window size follows (topology/docker/terminal.py).
     * An attached `docker run` then says "proxy" (after either with a TTY): its signals go to the container. */
    char reply[3 * PATH_MAX];
    size_t got = 0;
    struct termios saved;
    int raw = 0, attached = 0, proxied = 0;
    for (;;) {
        ssize_t n = read(engine, reply + got, sizeof reply - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        reply[got] = 0;
        int word_raw = !strncmp(reply, "raw\n", 4);
        if (!attached && (word_raw || !strncmp(reply, "tty\n", 4))) {
            attached = 1;
            if (word_raw && isatty(0) && tcgetattr(0, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                tcsetattr(0, TCSADRAIN, &t);
                raw = 1;
            }
            signal(SIGWINCH, send_size);
            send_size(0);
            if (word_raw) send_line("{\"ready\":true}\n");
            memmove(reply, reply + 4, got - 4);
            got -= 4;
            reply[got] = 0;
        }
        char *nl;
        while (!strncmp(reply, "read ", 5) && (nl = memchr(reply, '\n', got))) {
            send_file(reply + 5, (size_t)(nl - reply - 5));
            got -= (size_t)(nl + 1 - reply);
            memmove(reply, nl + 1, got);
            reply[got] = 0;
        }
        if (!proxied && !strncmp(reply, "proxy\n", 6)) {
            proxied = 1;
            proxy_signals(attached);
            memmove(reply, reply + 6, got - 6);
            got -= 6;
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
