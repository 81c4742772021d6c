#include "guest.h"

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

int sockets_main(void) {
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
