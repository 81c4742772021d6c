#include "guest.h"

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

int dnsd_main(int argc, char **argv) {
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
