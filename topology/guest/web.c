#include "web.h"
#include <stddef.h>

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
 * ones when one dies and exits 0 on the signals that stop the server. A worker serves its connections
 * (web_step; webanswer.c answers the requests: ROOT's files, the server's headers and pages). Fds,
 * from 3: the listeners, ROOT (O_PATH), the read and write ends of a pipe that tells the workers when
 * the master is gone (as Apache's "pipe of death"; a worker closes the write end), and in httpd's
 * master as it starts, a pipe of the first workers' pids. */
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

/* ---- a worker's connections: event-driven, as nginx's workers and Apache's event MPM ---------------
 * A worker polls its listeners and all its connections: it reads each request's head as it comes,
 * answers it (webanswer.c) and sends the answer as the client takes it (a file with sendfile), then
 * keeps the connection for the next request when the server would. No client, silent, slow or idle
 * between requests, holds a worker up; the first page is answered as soon as it is accepted. */
#define WEB_HEAD_MAX 8192    /* a request's head: large_client_header_buffers, LimitRequestLine */
#define WEB_CONNECTIONS 1024 /* a worker's: nginx's worker_connections */
#define WEB_TIMEOUT_MS 60000 /* a head to come, a client to take the answer: client_header_timeout,
                              * send_timeout, Apache's Timeout */

struct web_conn {
    int fd, sending, answered; /* answered: the requests answered on it */
    struct web_answer a;       /* being sent: a.out from out_at, then a.file from file_at */
    size_t out_at, in_len;
    off_t file_at;
    long long discard;  /* body bytes of the last request still to drop */
    long long deadline; /* ms: closed then unless something happens (web_now) */
    char in[WEB_HEAD_MAX];
};

static long long web_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void web_close(struct web_conn *c) {
    char drop[4096]; /* what the client sent unread would make close() reset the connection over the answer */
    shutdown(c->fd, SHUT_WR);
    while (recv(c->fd, drop, sizeof drop, MSG_DONTWAIT) > 0) continue;
    close(c->fd);
    if (c->a.file >= 0) close(c->a.file);
    free(c->a.out.p);
    free(c);
}

/* Moves connection C on as far as it goes without waiting: sends, drops a body, answers a request that
 * came whole, reads. 0 while it waits for the client, -1 when it is to be closed. */
static int web_step(int nginx, struct web_conn *c) {
    for (;;) {
        if (c->sending) {
            for (ssize_t n; c->out_at < c->a.out.len; c->out_at += (size_t)n) {
                if ((n = send(c->fd, c->a.out.p + c->out_at, c->a.out.len - c->out_at, MSG_NOSIGNAL)) < 0)
                    return errno == EAGAIN ? 0 : -1;
                c->deadline = web_now() + WEB_TIMEOUT_MS;
            }
            for (ssize_t n; c->a.file >= 0 && c->file_at < c->a.size; c->deadline = web_now() + WEB_TIMEOUT_MS)
                if ((n = sendfile(c->fd, c->a.file, &c->file_at, (size_t)(c->a.size - c->file_at))) <= 0)
                    return n < 0 && errno == EAGAIN ? 0 : -1; /* 0: the file shrank */
            if (c->a.file >= 0) close(c->a.file);
            free(c->a.out.p);
            int keep = c->a.keep;
            c->sending = 0, c->answered++, c->discard = c->a.discard;
            c->a = (struct web_answer){.file = -1};
            if (!keep) return -1;
            c->deadline = web_now() + (nginx ? 65000 : 5000); /* keepalive_timeout 65, KeepAliveTimeout 5 */
        }
        size_t drop = c->discard < (long long)c->in_len ? (size_t)c->discard : c->in_len, end = 0;
        memmove(c->in, c->in + drop, c->in_len -= drop);
        c->discard -= (long long)drop;
        char *crlf = memmem(c->in, c->in_len, "\n\r\n", 3), *lf = memmem(c->in, c->in_len, "\n\n", 2);
        if (c->discard) end = 0; /* the head ends at a blank line, CRLF or LF */
        else if (crlf && (!lf || crlf < lf)) end = (size_t)(crlf - c->in) + 3;
        else if (lf) end = (size_t)(lf - c->in) + 2;
        if (end) { /* a request's head: answered */
            char head[WEB_HEAD_MAX + 1];
            memcpy(head, c->in, end);
            head[end] = 0;
            memmove(c->in, c->in + end, c->in_len -= end);
            web_answer(nginx, c->fd, head, c->answered, &c->a);
            c->sending = 1, c->out_at = 0, c->file_at = 0;
            continue;
        }
        if (c->in_len == sizeof c->in) return -1; /* a head too long */
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (n <= 0) return n < 0 && errno == EAGAIN ? 0 : -1;
        c->in_len += (size_t)n, c->deadline = web_now() + WEB_TIMEOUT_MS;
    }
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
char **web_area; /* main's argv: the strings a worker's title overwrites */

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
    signal(SIGPIPE, SIG_IGN); /* a client gone before its answer */
    struct web_conn **conns = calloc(WEB_CONNECTIONS, sizeof *conns);
    struct pollfd *p = calloc(listeners + 1 + WEB_CONNECTIONS, sizeof *p);
    if (!conns || !p) _exit(1);
    for (int i = 0; i < listeners; i++) /* the workers race for each connection */
        fcntl(WEB_FD + i, F_SETFL, O_NONBLOCK);
    for (int count = 0;;) {
        long long now = web_now(), wait = -1;
        for (int i = 0; i < listeners; i++) /* no more connections than worker_connections */
            p[i] = (struct pollfd){.fd = count < WEB_CONNECTIONS ? WEB_FD + i : -1, .events = POLLIN};
        p[listeners] = (struct pollfd){.fd = pod, .events = POLLIN};
        for (int i = 0; i < count; i++) {
            short events = conns[i]->sending ? POLLOUT : POLLIN;
            p[listeners + 1 + i] = (struct pollfd){.fd = conns[i]->fd, .events = events};
            long long left = conns[i]->deadline > now ? conns[i]->deadline - now : 0;
            if (wait < 0 || left < wait) wait = left;
        }
        if (poll(p, (nfds_t)(listeners + 1 + count), (int)wait) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (p[listeners].revents) _exit(0); /* the master is gone */
        now = web_now();
        for (int i = count - 1; i >= 0; i--) { /* from the end: the last one takes a closed one's place */
            short ev = p[listeners + 1 + i].revents;
            if (ev ? web_step(nginx, conns[i]) : now >= conns[i]->deadline) {
                web_close(conns[i]);
                conns[i] = conns[--count];
            }
        }
        for (int i = 0; i < listeners; i++) {
            int ready = p[i].revents & POLLIN && count < WEB_CONNECTIONS;
            int fd = ready ? accept4(p[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
            struct web_conn *c = fd >= 0 ? malloc(sizeof *c) : NULL;
            if (!c) {
                if (fd >= 0) close(fd);
                continue;
            }
            memset(c, 0, offsetof(struct web_conn, in));
            c->fd = fd, c->a.file = -1, c->deadline = now + WEB_TIMEOUT_MS;
            if (web_step(nginx, c)) web_close(c); /* the request is most often there already */
            else conns[count++] = c;
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

int web_main(int argc, char **argv) {
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
int web_httpd_main(char **argv) {
    int root = WEB_FD + 1;
    pid_t workers[64] = {0};
    for (ssize_t n; (n = read(root + 3, workers, sizeof workers)) < 0 && errno == EINTR;) continue;
    close(root + 3);
    fcntl(root + 2, F_SETFD, FD_CLOEXEC);
    prctl(PR_SET_NAME, "httpd");
    return web_master(1, 0, workers, argv);
}
