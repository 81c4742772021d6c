#include "guest.h"

/* ---- nslab-confine --------------------------------------------------------------------- */

/* Enter the namespaces, root and working directory of process PID, as `nsenter -t PID -U -n -p -m
 * -u -i -r -w` does (or WORKDIR, docker exec -w), and fork (a pid namespace takes its members from the
 * next fork): -1 in the child, which goes on; the parent waits and returns the child's status, 128+N for
 * a signal N as Docker reports it (126 when it could not enter). Namespaces it is in already are kept:
 * run by the container's shim, which made it in the container's pid namespace, it returns -1 unforked. What runc would fail on is written to
 * REPORT as one line for the daemon to word as runc does: "chdir ERRNO" (WORKDIR), or look_path's and
 * the exec's. REPORT is closed in the parent once the child exists and on the child's exec, so its
 * reader sees EOF as soon as the command runs. */
static int join_container(const char *pid, const char *workdir, int report) {
    static const char *const spaces[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
    int fds[6], root, cwd;
    char path[64];
    if (report >= 0 && fcntl(report, F_SETFD, FD_CLOEXEC)) goto fail;
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, spaces[i]);
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) goto fail;
    }
    snprintf(path, sizeof path, "/proc/%s/root", pid);
    if ((root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    snprintf(path, sizeof path, "/proc/%s/cwd", pid);
    if ((cwd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    int joined_pid = 0; /* run by the container's shim, it already is in the container's pid namespace */
    for (int i = 0; i < 6; i++) {
        struct stat target, own;
        snprintf(path, sizeof path, "/proc/self/ns/%s", spaces[i]);
        int same = !fstat(fds[i], &target) && !stat(path, &own) && target.st_ino == own.st_ino &&
                   target.st_dev == own.st_dev;
        if (same && !strcmp(spaces[i], "pid")) joined_pid = 1;
        if ((!same && setns(fds[i], 0)) || close(fds[i])) goto fail; /* a user ns cannot be re-entered */
    }
    if (fchdir(root) || chroot(".") || fchdir(cwd)) goto fail;
    close(root), close(cwd);
    if (workdir && (chdir("/") || chdir(workdir))) {
        if (report >= 0) dprintf(report, "chdir %d\n", errno);
        return 126;
    }
    if (joined_pid) return -1;
    pid_t child = fork();
    if (child < 0) goto fail;
    if (child == 0) return -1;
    if (report >= 0) close(report);
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return 126;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); /* as docker exec says */
fail:
    perror("nslab-confine: entering the container");
    return 126;
}

/* Go's exec.LookPath(FILE) with the process's PATH, as runc runs it before the exec: 0 with the path
 * in FOUND, else -1 after writing why on REPORT ("notfound": not in $PATH; for a FILE with a slash
 * "stat ERRNO", "isdir" or "noexec"). */
static int look_path(const char *file, char *found, size_t size, int report) {
    struct stat st;
    if (strchr(file, '/')) {
        if (stat(file, &st)) return dprintf(report, "stat %d\n", errno), -1;
        if (S_ISDIR(st.st_mode)) return dprintf(report, "isdir\n"), -1;
        if (!(st.st_mode & 0111)) return dprintf(report, "noexec\n"), -1;
        snprintf(found, size, "%s", file);
        return 0;
    }
    const char *path = getenv("PATH");
    for (const char *dir = path ? path : ""; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
        int len = (int)(strchr(dir, ':') ? strchr(dir, ':') - dir : (long)strlen(dir));
        snprintf(found, size, "%.*s/%s", len, len ? dir : ".", file);
        if (!stat(found, &st) && !S_ISDIR(st.st_mode) && st.st_mode & 0111) return 0;
    }
    dprintf(report, "notfound\n");
    return -1;
}

/* nslab-confine [-t PID [-w WORKDIR] [-r REPORT_FD] [-s]] [-p PROGRAM] CAPS INHERITABLE FILTER_FD
 * NO_NEW_PRIVS -- COMMAND...: what runc does to a container process before it execs the image's
 * program. CAPS and INHERITABLE are hex capability masks (the bounding, permitted and effective sets
 * get CAPS; ambient is emptied); FILTER_FD, unless -1, is a file holding a compiled seccomp filter
 * (struct sock_filter[]), read with pread: the daemon keeps one open file for many containers. The
 * filter is loaded first, while CAP_SYS_ADMIN is still held, so that NO_NEW_PRIVS (1 for
 * --security-opt no-new-privileges) stays as Docker leaves it. It runs as the daemon passed it,
 * /proc/self/fd/N (the container's root has no path to it): that fd is not inherited.
 * With -t (docker exec) it joins container PID first, in place of nsenter, in WORKDIR with -w; with -s
 * (exec -t) the command gets a session whose controlling terminal is its stdin, as `setsid -c` gives;
 * with -r it finds the command as runc does and reports a failure on REPORT_FD rather than on stderr
 * (see join_container). With -p it runs PROGRAM with COMMAND as its argv (a busybox applet under its
 * own name, as the images' /bin/sleep is). */
int confine_main(int argc, char **argv) {
    const char *program = NULL;
    int report = -1;
    if (argc > 2 && !strcmp(argv[1], "-t")) { /* docker exec: first join the container */
        const char *pid = argv[2], *workdir = NULL;
        int session = 0;
        argc -= 2, argv += 2;
        for (;;) {
            if (argc > 2 && !strcmp(argv[1], "-w")) workdir = argv[2], argc -= 2, argv += 2;
            else if (argc > 2 && !strcmp(argv[1], "-r")) report = atoi(argv[2]), argc -= 2, argv += 2;
            else if (argc > 1 && !strcmp(argv[1], "-s")) session = 1, argc -= 1, argv += 1;
            else break;
        }
        int status = join_container(pid, workdir, report);
        if (status >= 0) return status; /* the parent, with its child's status */
        if (session && ((getsid(0) != getpid() && setsid() < 0) || ioctl(0, TIOCSCTTY, 1))) goto fail;
    }
    if (argc > 2 && !strcmp(argv[1], "-p")) {
        program = argv[2];
        argc -= 2, argv += 2;
    }
    if (argc < 7 || strcmp(argv[5], "--")) {
        fputs("usage: nslab-confine [-t PID [-w DIR] [-r FD] [-s]] [-p PROGRAM] CAPS INHERITABLE FILTER_FD NO_NEW_PRIVS -- COMMAND...\n",
              stderr);
        return 2;
    }
    unsigned long long caps = strtoull(argv[1], NULL, 16), inh = strtoull(argv[2], NULL, 16);
    int filter = atoi(argv[3]);
    if (atoi(argv[4]) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) goto fail;
    if (filter >= 0 && (load_filter(filter) || close(filter))) goto fail;
    for (int cap = 0; cap < 64; cap++)
        if (!(caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL) break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct head = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2] = {
        {.effective = (unsigned)caps, .permitted = (unsigned)caps, .inheritable = (unsigned)inh},
        {.effective = (unsigned)(caps >> 32), .permitted = (unsigned)(caps >> 32), .inheritable = (unsigned)(inh >> 32)},
    };
    if (syscall(SYS_capset, &head, data)) goto fail;
    if (report >= 0) { /* docker exec: runc's LookPath, then the exec; their failures for the daemon */
        char found[PATH_MAX];
        if (look_path(argv[6], found, sizeof found, report)) return 126;
        execv(found, argv + 6);
        dprintf(report, "execve %d %s\n", errno, found);
        return 126;
    }
    if (!program) program = argv[6];
    execvp(program, argv + 6);
    fprintf(stderr, "exec %s: %s\n", program, strerror(errno));
    return errno == ENOENT ? 127 : 126;
fail:
    perror("nslab-confine");
    return 126;
}
