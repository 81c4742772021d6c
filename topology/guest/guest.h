/* The guest programs' shared declarations: each applet lives in a file of its own (guest.c has
 * main, which picks the applet by the name it was run under, and the few helpers others share). */
#ifndef NSLAB_GUEST_H
#define NSLAB_GUEST_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int confine_main(int argc, char **argv);
void default_signals(void);
int dnsd_main(int argc, char **argv);
int fill_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len); /* proxy.c */
int docker_main(int argc, char **argv);
int enter_main(int argc, char **argv);
int init_main(void);
int load_filter(int fd);
int proxy_main(int argc, char **argv);
int pty_main(int argc, char **argv);
int shim_main(void);
int standin_main(const char *socket_path);
int sockets_main(void);
int sysfs_main(int argc, char **argv);
int web_httpd_main(char **argv);
int web_main(int argc, char **argv);
int write_all(int fd, const char *buf, ssize_t n);
extern char **web_area;

#endif
