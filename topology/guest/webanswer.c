#include "web.h" /* first: guest.h's _GNU_SOURCE */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <strings.h>

/* ---- nslab-web's answers: a request's head in, the response's head and body out ------------------
 *
 * As the images' servers answer with their default configurations, checked in their sources:
 * nginx:latest f6d0b4767a6c is nginx 1.19.6 (default.conf: root /usr/share/nginx/html, index
 * index.html index.htm, no autoindex; keepalive_timeout 65, keepalive_requests 100), httpd:latest
 * 683a7aad17d3 Apache 2.4.46 (httpd.conf: Options Indexes FollowSymLinks, DirectoryIndex index.html,
 * KeepAlive On, MaxKeepAliveRequests 100, UseCanonicalName Off, no ServerName, no autoindex options).
 * Their headers in their order, their error pages. */

void web_addn(struct web_text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1) cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) return;
        t->p = p, t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->p[t->len += n] = 0;
}

void web_add(struct web_text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n >= 0) web_addn(t, s, (size_t)n);
    free(s);
}

struct web_request {
    char *method, *target, *host; /* into the head; host NULL without a Host header */
    int minor;                    /* HTTP/1.MINOR */
    int close, keepalive, chunked; /* Connection: close, Connection: keep-alive, a chunked body */
    int expect;                   /* Expect: 100-continue: the client may never send its body */
    long long length;             /* Content-Length */
    char path[4200];              /* the target's path: decoded, slashes merged, dot segments resolved */
    const char *args;             /* after the target's '?'; NULL without one */
    char name[300];               /* the Host header's host: nginx's without the port, Apache's too */
    int port;                     /* the Host header's port (Apache), 0 without one */
};

/* The request line and the headers that matter; 0, or 400 */
static int web_parse(char *head, struct web_request *q) {
    memset(q, 0, sizeof *q);
    int first = 1;
    for (char *line = head, *next; *line; line = next) {
        char *eol = strchr(line, '\n');
        next = eol ? eol + 1 : line + strlen(line);
        if (eol) *eol = 0;
        if (eol > line && eol[-1] == '\r') eol[-1] = 0;
        if (first) {
            char *rest, *version;
            first = 0;
            q->method = strtok_r(line, " ", &rest);
            q->target = strtok_r(NULL, " ", &rest);
            version = strtok_r(NULL, " ", &rest);
            if (!q->method || !q->target || q->target[0] != '/') return 400;
            if (version && (strncmp(version, "HTTP/1.", 7) || !isdigit((unsigned char)version[7]))) return 400;
            q->minor = version ? atoi(version + 7) : 0;
            continue;
        }
        char *colon = strchr(line, ':'), *value = colon ? colon + 1 : NULL;
        if (!colon) continue;
        *colon = 0;
        value += strspn(value, " \t");
        for (char *end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\t');) *--end = 0;
        if (!strcasecmp(line, "Host") && !q->host) q->host = value;
        else if (!strcasecmp(line, "Connection")) {
            q->close = strcasestr(value, "close") != NULL; /* nginx looks for the words anywhere */
            q->keepalive = !q->close && strcasestr(value, "keep-alive") != NULL;
        } else if (!strcasecmp(line, "Content-Length")) q->length = atoll(value);
        else if (!strcasecmp(line, "Transfer-Encoding")) q->chunked = strcasestr(value, "chunked") != NULL;
        else if (!strcasecmp(line, "Expect")) q->expect = !strcasecmp(value, "100-continue");
    }
    return first ? 400 : 0;
}

/* q->path from the target: %XX decoded, "//" merged, "." and ".." resolved (both servers do); -1 for
 * a bad escape, a NUL or a path above the root */
static int web_normalize(struct web_request *q) {
    char decoded[sizeof q->path];
    size_t k = 0;
    char *query = strchr(q->target, '?');
    if (query) *query = 0, q->args = query + 1;
    for (const char *t = q->target; *t; t++) {
        char ch = *t;
        if (ch == '%') {
            if (!isxdigit((unsigned char)t[1]) || !isxdigit((unsigned char)t[2])) return -1;
            char hex[3] = {t[1], t[2], 0};
            ch = (char)strtol(hex, NULL, 16), t += 2;
            if (!ch) return -1;
        }
        if (k + 2 >= sizeof decoded) return -1;
        decoded[k++] = ch;
    }
    decoded[k] = 0;
    const char *last = strrchr(decoded, '/') + 1; /* "", "." or "..": a directory's path */
    int dir = !strcmp(last, "") || !strcmp(last, ".") || !strcmp(last, "..");
    size_t o = 0;
    for (const char *s = decoded; *s;) {
        s += strspn(s, "/");
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (!o) return -1;
            while (o && q->path[--o] != '/') continue;
        } else if (n && !(n == 1 && s[0] == '.')) {
            q->path[o++] = '/';
            memcpy(q->path + o, s, n), o += n;
        }
        s += n;
    }
    if (dir || !o) q->path[o++] = '/';
    q->path[o] = 0;
    return 0;
}

/* q->name and q->port from the Host header: nginx's ngx_http_validate_host (port cut, trailing dot
 * cut, lowercased; -1 when invalid), Apache's fix_hostname (the same, the port kept for its URLs) */
static int web_host(int nginx, struct web_request *q) {
    const char *h = q->host;
    size_t end = strlen(h), dot = (size_t)-1;
    if (nginx) {
        int literal = 0, rest = 0;
        for (size_t i = 0; h[i]; i++) {
            if (h[i] == '.') {
                if (dot + 1 == i) return -1;
                dot = i;
            } else if (h[i] == ':' && !rest && !literal) end = i, rest = 1;
            else if (h[i] == '[' && i == 0) literal = 1;
            else if (h[i] == ']' && literal && !rest) end = i + 1, rest = 1;
            else if (h[i] == '/') return -1;
        }
    } else {
        const char *colon = h[0] == '[' ? strstr(h, "]:") : strrchr(h, ':');
        if (colon && h[0] == '[') colon++;
        if (colon) {
            char *stop;
            long port = strtol(colon + 1, &stop, 10);
            if (*stop || stop == colon + 1 || port < 1 || port > 65535) return -1;
            q->port = (int)port, end = (size_t)(colon - h);
        }
        if (h[0] == '[') h++, end -= end >= 2 ? 2 : end;
        dot = end && h[end - 1] == '.' ? end - 1 : (size_t)-1;
    }
    if (end && dot == end - 1) end--;
    if (!end || end >= sizeof q->name) return -1;
    for (size_t i = 0; i < end; i++) q->name[i] = (char)tolower((unsigned char)h[i]);
    q->name[end] = 0;
    return 0;
}

/* The connection's own address as text (no brackets, as nginx's ngx_sock_ntop without a port); its
 * port */
static int web_local(int conn, char *text, size_t size) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    text[0] = 0;
    if (getsockname(conn, (struct sockaddr *)&ss, &len)) return 80;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        int mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr); /* a v4 client of Apache's dual-stack socket */
        inet_ntop(mapped ? AF_INET : AF_INET6, in6->sin6_addr.s6_addr + (mapped ? 12 : 0), text, (socklen_t)size);
        return ntohs(in6->sin6_port);
    }
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)size);
    return ntohs(in->sin_port);
}

/* Apache's ap_os_escape_path; NAME (not partial) adds "./" before a first segment with a colon */
static void web_escape_path(struct web_text *t, const char *s, int name) {
    const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
    if (name && colon && (!slash || colon < slash)) web_addn(t, "./", 2);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (isalnum(*c) || strchr("$-_.+!*'(),:;@&=/~", *c)) web_addn(t, (const char *)c, 1);
        else web_add(t, "%%%02x", *c);
}

/* Apache's ap_escape_html */
static void web_escape_html(struct web_text *t, const char *s) {
    for (; *s; s++)
        if (*s == '<') web_addn(t, "&lt;", 4);
        else if (*s == '>') web_addn(t, "&gt;", 4);
        else if (*s == '&') web_addn(t, "&amp;", 5);
        else if (*s == '"') web_addn(t, "&quot;", 6);
        else web_addn(t, s, 1);
}

/* A directory's redirect to its path with a slash. nginx (ngx_http_static_handler, the header
 * filter): "http://" + the Host header's host without its port (the connection's own address without
 * one) + ":" + the port it listens on unless 80 (port_in_redirect) + the decoded path + "/" + "?query":
 * the published port of `-p 8080:80` is lost. Apache (mod_dir, ap_construct_url with UseCanonicalName
 * Off): the Host header's host and port as the client gave them, the path escaped. */
static void web_location(int nginx, int conn, struct web_request *q, struct web_text *t) {
    char own[INET6_ADDRSTRLEN];
    int port = web_local(conn, own, sizeof own);
    const char *host = q->host ? q->name : own; /* Apache without ServerName: the address it guessed */
    if (nginx) {
        web_add(t, "http://%s", host);
        if (port != 80) web_add(t, ":%d", port);
        web_add(t, "%s/", q->path);
        if (q->args && *q->args) web_add(t, "?%s", q->args);
        return;
    }
    web_add(t, strchr(host, ':') ? "http://[%s]" : "http://%s", host);
    if (q->port && q->port != 80) web_add(t, ":%d", q->port);
    web_escape_path(t, q->path, 0);
    web_addn(t, "/", 1);
    if (q->args) web_add(t, "?%s", q->args);
}

/* ---- Apache's directory listing (mod_autoindex without IndexOptions: a plain list) ------------- */

#define WEB_APACHE_BUFFER 8000 /* APR_BUCKET_BUFF_SIZE: ap_rputs's buffer, sent when a write overflows */

struct web_listing {
    struct web_text body;
    size_t buffered;
    size_t cuts[64]; /* where the buffer was sent on: a longer listing goes out chunked */
    int ncuts;
};

/* ap_rputs: the bytes are buffered; a write that does not fit sends the buffer and itself on */
static void web_rputs(struct web_listing *w, const char *s) {
    size_t n = strlen(s);
    web_addn(&w->body, s, n);
    if (w->buffered + n <= WEB_APACHE_BUFFER) w->buffered += n;
    else if (w->ncuts < (int)(sizeof w->cuts / sizeof *w->cuts)) /* beyond: one last long chunk */
        w->cuts[w->ncuts++] = w->body.len, w->buffered = 0;
}

static void web_rputs_html(struct web_listing *w, const char *s, int path) {
    struct web_text escaped = {0}, html = {0};
    if (path) web_escape_path(&escaped, s, 1);
    web_escape_html(&html, path ? (escaped.p ? escaped.p : "") : s);
    web_rputs(w, html.p ? html.p : "");
    free(escaped.p), free(html.p);
}

static int web_names_up(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int web_names_down(const void *a, const void *b) { return -web_names_up(a, b); }

/* The listing of the directory open as FD, closed here (request path PATH, query ARGS): -1 when it
 * cannot be read */
static int web_list(int fd, const char *path, const char *args, struct web_listing *w) {
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return -1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strncmp(e->d_name, ".ht", 3)) continue;
        if (fstatat(dirfd(dir), e->d_name, &st, 0) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) continue;
        if (count == cap && !(names = reallocarray(names, cap = cap ? cap * 2 : 32, sizeof *names))) break;
        if (asprintf(&names[count], "%s%s", e->d_name, S_ISDIR(st.st_mode) ? "/" : "") >= 0) count++;
    }
    closedir(dir);
    int down = 0; /* ?C=x;O=D: in a plain list only the order tells (the other keys are all equal) */
    for (const char *a = args; a && a[0] && a[1] == '=' && a[2] && strchr("CO", a[0]);) {
        if (!strchr(a[0] == 'O' ? "AD" : "NMSD", a[2]) || (a[3] && a[3] != '&' && a[3] != ';')) break;
        if (a[0] == 'O') down = a[2] == 'D';
        a += a[3] ? 4 : 3;
    }
    qsort(names, count, sizeof *names, down ? web_names_down : web_names_up);
    struct web_text title = {0};
    web_escape_html(&title, path);
    while (title.len > 1 && title.p[title.len - 1] == '/') title.p[--title.len] = 0;
    const char *preamble[] = {"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n",
        "<html>\n <head>\n  <title>Index of ", title.p, "</title>\n", " </head>\n <body>\n",
        "<h1>Index of ", title.p, "</h1>\n", "<ul>"};
    for (size_t i = 0; i < sizeof preamble / sizeof *preamble; i++) web_rputs(w, preamble[i]);
    if (strcmp(path, "/")) { /* the parent, always first */
        char parent[sizeof ((struct web_request *)0)->path];
        snprintf(parent, sizeof parent, "%s", path);
        size_t n = strlen(parent) - 1;
        while (n && parent[n - 1] != '/') n--;
        parent[n] = 0;
        web_rputs(w, "<li><a href=\"");
        web_rputs_html(w, parent, 1);
        web_rputs(w, "\"> ");
        web_rputs(w, "Parent Directory");
        web_rputs(w, "</a></li>\n");
    }
    for (size_t i = 0; i < count; i++) {
        web_rputs(w, "<li><a href=\"");
        web_rputs_html(w, names[i], 1);
        web_rputs(w, "\"> ");
        web_rputs_html(w, names[i], 0);
        web_rputs(w, "</a></li>\n");
        free(names[i]);
    }
    free(names);
    free(title.p);
    web_rputs(w, "</ul>\n");
    web_rputs(w, "</body></html>\n");
    return 0;
}

/* ---- the answer ------------------------------------------------------------------------------- */

static const char *web_type(const char *path) {
    static const char *types[][2] = {{"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
        {"js", "application/javascript"}, {"txt", "text/plain"}, {"json", "application/json"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"gif", "image/gif"}, {"svg", "image/svg+xml"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && !strchr(dot, '/') && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot + 1, types[i][0])) return types[i][1];
    return "application/octet-stream"; /* nginx's default_type */
}

static const char *web_reason(int nginx, int code) {
    return code == 200   ? "OK"
           : code == 301 ? "Moved Permanently"
           : code == 400 ? "Bad Request"
           : code == 403 ? "Forbidden"
           : code == 404 ? "Not Found"
           : nginx       ? "Not Allowed"
                         : "Method Not Allowed";
}

static int web_open(const char *path) { /* a path of the request, under the working directory */
    return open(path[1] ? path + 1 : ".", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* What the request's path names: 200 with *FD a regular file (ST), 301 (a directory without the
 * slash), 403, 404, or for Apache 0 with *FD the directory to list. nginx: ngx_http_index_module
 * (index.html, then index.htm), a directory without one is forbidden (no autoindex), the static
 * module; Apache: mod_dir (DirectoryIndex index.html), mod_autoindex, the default handler. */
static int web_resolve(int nginx, struct web_request *q, int *fd, struct stat *st) {
    size_t k = strlen(q->path);
    const char *dir = k > 1 ? q->path + 1 : ".";
    struct stat is;
    *fd = -1;
    if (q->path[k - 1] == '/' && nginx) {
        const char *names[] = {"index.html", "index.htm"};
        for (size_t i = 0; i < 2 && *fd < 0; i++) {
            snprintf(q->path + k, sizeof q->path - k, "%s", names[i]);
            if ((*fd = web_open(q->path)) >= 0) break; /* the index, served as a file */
            int err = errno;
            q->path[k] = 0;
            if (err == EACCES || err == ELOOP || err == EMLINK) return 403;
            if (err != ENOENT || (!i && stat(dir, &is) && errno != EACCES)) return 404; /* the directory */
        }
        if (*fd < 0) return 403; /* "directory index of ... is forbidden" */
    } else if (q->path[k - 1] == '/') {
        snprintf(q->path + k, sizeof q->path - k, "index.html");
        if (stat(q->path + 1, &is) || !S_ISREG(is.st_mode)) { /* no index: the listing */
            q->path[k] = 0;
            if ((*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) return 0;
            return errno == ENOENT || errno == ENOTDIR ? 404 : 403;
        }
        *fd = web_open(q->path);
    } else
        *fd = web_open(q->path);
    if (*fd < 0) {
        int err = errno;
        if (!nginx && err == EACCES && !stat(q->path + 1, &is) && S_ISDIR(is.st_mode)) return 301;
        return err == EACCES || (nginx && (err == ELOOP || err == EMLINK)) ? 403 : 404;
    }
    int code = fstat(*fd, st) ? 404 : S_ISDIR(st->st_mode) ? 301 : S_ISREG(st->st_mode) ? 200 : 404;
    if (code != 200) close(*fd), *fd = -1;
    return code;
}

/* The response's head: nginx's header filter's order, or Apache's (its headers_out table's) */
static void web_head(int nginx, struct web_text *o, int code, const char *type, long long length,
                     const struct stat *file, const char *location, const char *connection, int chunked) {
    char date[64], modified[64] = "", etag[64] = "";
    time_t now = time(NULL);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
    if (file) {
        strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&file->st_mtime));
        long long usec = (long long)file->st_mtim.tv_sec * 1000000 + file->st_mtim.tv_nsec / 1000;
        snprintf(etag, sizeof etag, "\"%llx-%llx\"", nginx ? (long long)file->st_mtime : (long long)file->st_size,
                 nginx ? (long long)file->st_size : usec);
    }
    web_add(o, "HTTP/1.1 %d %s\r\n", code, web_reason(nginx, code));
    if (nginx) {
        web_add(o, "Server: nginx/1.19.6\r\nDate: %s\r\nContent-Type: %s\r\n", date, type);
        if (length >= 0) web_add(o, "Content-Length: %lld\r\n", length);
        if (file) web_add(o, "Last-Modified: %s\r\n", modified);
        if (location) web_add(o, "Location: %s\r\n", location);
        web_add(o, "%s", connection);
        if (file) web_add(o, "ETag: %s\r\nAccept-Ranges: bytes\r\n", etag);
    } else {
        web_add(o, "Date: %s\r\nServer: Apache/2.4.46 (Unix)\r\n", date);
        if (location) web_add(o, "Location: %s\r\n", location);
        if (file) web_add(o, "Last-Modified: %s\r\nETag: %s\r\nAccept-Ranges: bytes\r\n", modified, etag);
        if (length >= 0) web_add(o, "Content-Length: %lld\r\n", length);
        web_add(o, "%s%sContent-Type: %s\r\n", connection, chunked ? "Transfer-Encoding: chunked\r\n" : "", type);
    }
    web_addn(o, "\r\n", 2);
}

/* The server's own page for CODE (nginx's ngx_http_error_pages, Apache's ap_send_error_response) */
static void web_page(int nginx, struct web_text *t, int code, const char *method, const char *location) {
    const char *reason = web_reason(nginx, code);
    if (nginx) {
        web_add(t,
                "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
                "<hr><center>nginx/1.19.6</center>\r\n</body>\r\n</html>\r\n",
                code, reason, code, reason);
        return;
    }
    web_add(t,
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>%d %s</title>\n"
            "</head><body>\n<h1>%s</h1>\n",
            code, reason, reason);
    if (code == 301) {
        web_addn(t, "<p>The document has moved <a href=\"", 35);
        web_escape_html(t, location);
        web_addn(t, "\">here</a>.</p>\n", 16);
    } else if (code == 405) {
        web_addn(t, "<p>The requested method ", 24);
        web_escape_html(t, method);
        web_addn(t, " is not allowed for this URL.</p>\n", 34);
    } else
        web_add(t, "%s",
                code == 400   ? "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n"
                : code == 403 ? "<p>You don't have permission to access this resource.</p>\n"
                              : "<p>The requested URL was not found on this server.</p>\n");
    web_addn(t, "</body></html>\n", 15);
}

/* Whether the connection stays: nginx (ngx_http_handler, keepalive_requests 100, the errors that
 * close in ngx_http_special_response_handler): HTTP/1.1 unless "Connection: close", HTTP/1.0 with
 * "Connection: keep-alive"; Apache (ap_set_keepalive): the same with MaxKeepAliveRequests 100 and a
 * body of known length (or chunked, to HTTP/1.1). CONNECTION gets the headers that tell it: nginx's
 * "Connection: keep-alive" or "close"; Apache sends "Keep-Alive: timeout=5, max=LEFT" and
 * "Connection: Keep-Alive" only to a client that asked for keep-alive, "Connection: close" always. */
static int web_keep(int nginx, struct web_request *q, int code, int answered, int length_known, char *connection,
                    size_t size) {
    int asked = q->keepalive || (!q->close && q->minor >= 1), left = 100 - answered;
    int keep = code != 400 && !q->chunked && asked && (nginx ? answered + 1 < 100 : left > 0 && length_known);
    if (q->expect && (!nginx || q->length > 0)) keep = 0; /* Apache's expecting_100; a body that may not come */
    if (nginx) snprintf(connection, size, "Connection: %s\r\n", keep ? "keep-alive" : "close");
    else if (!keep) snprintf(connection, size, "Connection: close\r\n");
    else if (q->keepalive)
        snprintf(connection, size, "Keep-Alive: timeout=5, max=%d\r\nConnection: Keep-Alive\r\n", left);
    else connection[0] = 0;
    return keep;
}

void web_answer(int nginx, int conn, char *head, int answered, struct web_answer *a) {
    struct web_request q;
    struct web_text body = {0}, location = {0};
    struct web_listing list = {0};
    struct stat st;
    char connection[96];
    int fd = -1, is_head = 0, chunked = 0, listed = 0, code = web_parse(head, &q);
    memset(a, 0, sizeof *a);
    a->file = -1;
    a->discard = q.length > 0 ? q.length : 0;
    if (!code && (q.host ? web_host(nginx, &q) : q.minor >= 1)) code = 400; /* HTTP/1.1 needs a Host */
    if (!code && web_normalize(&q)) code = 400;
    if (!code && !(is_head = !strcmp(q.method, "HEAD")) && strcmp(q.method, "GET")) code = 405;
    if (!code && !(code = web_resolve(nginx, &q, &fd, &st))) {
        code = 200, listed = 1;
        if (web_list(fd, q.path, q.args, &list)) code = 403, listed = 0;
        fd = -1;
    }
    if (code == 301) web_location(nginx, conn, &q, &location);
    long long length;
    const char *type = nginx ? "text/html" : "text/html; charset=iso-8859-1";
    if (code == 200 && !listed) {
        length = (long long)st.st_size, type = web_type(q.path);
    } else if (listed && code == 200) {
        type = "text/html;charset=ISO-8859-1";
        length = is_head || list.ncuts ? -1 : (long long)list.body.len;
        chunked = list.ncuts && q.minor >= 1 && !is_head;
    } else {
        web_page(nginx, &body, code, q.method ? q.method : "", location.p);
        length = (long long)body.len;
    }
    int known = is_head || length >= 0 || chunked;
    a->keep = web_keep(nginx, &q, code, answered, known, connection, sizeof connection);
    const struct stat *file = code == 200 && !listed ? &st : NULL;
    web_head(nginx, &a->out, code, type, length, file, location.p, connection, chunked);
    if (listed && !is_head) {
        size_t at = 0;
        for (int i = 0; chunked && i <= list.ncuts; i++) { /* ap_http_chunk_filter: one chunk a send */
            size_t end = i < list.ncuts ? list.cuts[i] : list.body.len;
            if (end > at) {
                web_add(&a->out, "%zx\r\n", end - at);
                web_addn(&a->out, list.body.p + at, end - at);
                web_addn(&a->out, "\r\n", 2);
            }
            at = end;
        }
        if (chunked) web_addn(&a->out, "0\r\n\r\n", 5);
        else web_addn(&a->out, list.body.p, list.body.len);
    } else if (!is_head && body.len)
        web_addn(&a->out, body.p, body.len);
    if (code == 200 && !listed && !is_head) a->file = fd, a->size = st.st_size;
    else if (fd >= 0) close(fd);
    free(body.p), free(location.p), free(list.body.p);
}
