#include "guest.h"

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

int fill_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len) {
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

int proxy_main(int argc, char **argv) {
    const char *proto = "tcp", *host_ip = "0.0.0.0", *ctr_ip = NULL;
    int host_port = 0, ctr_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "-use-listen-fd")) { /* 28's flag: its daemon passes the bound socket; bound here */
            i--;
            continue;
        }
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
