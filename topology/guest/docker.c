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

static void send_size(int sig) {
    (void)sig;
    struct winsize ws;
    char buf[64];
    if (ioctl(1, TIOCGWINSZ, &ws) == 0) {
        int n = snprintf(buf, sizeof buf, "{\"size\":[%d,%d]}\n", ws.ws_col, ws.ws_row);
        if (write(engine, buf, n) < 0) return;
    }
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
