#include "guest.h"

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
