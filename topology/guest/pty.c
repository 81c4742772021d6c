#include "guest.h"

/* ---- nslab-pty ------------------------------------------------------------------------- */

/* nslab-pty COMMAND...: run COMMAND as the leader of a new session on a new pseudo-terminal of the
 * sandbox's own /dev/pts (so that `tty` names it), and relay that terminal to stdin and stdout, raw;
 * window size changes of stdin (SIGWINCH) are passed on. When stdin hangs up (the lab's terminal
 * closed) it closes the pty, which the kernel then hangs up: COMMAND's session gets SIGHUP, as when
 * an ssh connection drops. (`script` did the relaying, but it blocks SIGHUP and only types an EOF
 * there, which a running job never reads: the job and the shell outlived the terminal.) */
int pty_main(int argc, char **argv) {
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
