/* What nslab-web's processes (web.c) and its answers (webanswer.c) share. */
#ifndef NSLAB_WEB_H
#define NSLAB_WEB_H
#include "guest.h"

/* A growing string: a response's head and the body the server makes itself (error pages, listings). */
struct web_text {
    char *p;
    size_t len, cap;
};
void web_add(struct web_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void web_addn(struct web_text *t, const char *s, size_t n);

/* One request's answer: OUT (head, and the body when the server made it), then FILE's SIZE bytes. */
struct web_answer {
    struct web_text out;
    int file;           /* -1: none */
    off_t size;
    int keep;           /* the connection stays open for the next request */
    long long discard;  /* bytes of the request's body that follow its head, to drop */
};

/* Answers the request whose head is HEAD (NUL-terminated) on connection CONN, the connection's
 * request number ANSWERED + 1, as nginx 1.19.6 (NGINX) or Apache 2.4.46 do with the images'
 * configurations, serving the working directory. */
void web_answer(int nginx, int conn, char *head, int answered, struct web_answer *a);

#endif
