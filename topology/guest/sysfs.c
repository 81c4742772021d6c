#include "guest.h"

/* ---- nslab-sysfs ----------------------------------------------------------------------- */

/* nslab-sysfs PID BLOCKED: once the container PID (bwrap's child, building its root) waits on its
 * --block-fd (/proc/PID/syscall starts with BLOCKED, e.g. "0 0x9"), enter its network and mount
 * namespaces and its root, and put a read-only sysfs of its network namespace on /sys, as Docker
 * does. The kernel lets a user namespace mount a sysfs only where one is visible already (bwrap
 * binds the Docker host's on /sys): mount it beside, then move it into the place of the host's,
 * so that the container's mount table shows one sysfs. One process instead of a dozen of shell. */
int sysfs_main(int argc, char **argv) {
    if (argc != 3) {
        fputs("usage: nslab-sysfs PID BLOCKED\n", stderr);
        return 2;
    }
    char path[64], buf[128];
    size_t want = strlen(argv[2]);
    snprintf(path, sizeof path, "/proc/%s/syscall", argv[1]);
    for (int i = 0;; i++) { /* bwrap sets up in a few ms; give up after 5 s */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0) close(fd);
        if (n < 0) {
            fprintf(stderr, "nslab-sysfs: %s: %s\n", path, strerror(errno));
            return 1;
        }
        buf[n] = 0;
        if (!strncmp(buf, argv[2], want) && buf[want] == ' ') break;
        if (i == 25000) {
            fputs("nslab-sysfs: the container was not set up in time\n", stderr);
            return 1;
        }
        usleep(200); /* a read of the file costs microseconds; the mount waits at most this long */
    }
    static const char *const spaces[] = {"net", "mnt"};
    int fds[2], root;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/proc/%s/ns/%s", argv[1], spaces[i]);
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) goto fail;
    }
    snprintf(path, sizeof path, "/proc/%s/root", argv[1]);
    if ((root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) goto fail;
    if (setns(fds[0], CLONE_NEWNET) || setns(fds[1], CLONE_NEWNS) || fchdir(root) || chroot(".")) goto fail;
    unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mkdir("/run/.sysfs", 0700) || mount("sysfs", "/run/.sysfs", "sysfs", flags, NULL) ||
        umount2("/sys", MNT_DETACH) || mount("/run/.sysfs", "/sys", NULL, MS_MOVE, NULL) || rmdir("/run/.sysfs"))
        goto fail;
    return 0;
fail:
    perror("nslab-sysfs");
    return 1;
}
