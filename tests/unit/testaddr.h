/* testaddr.h - a socket address from text, for unit tests that key on clients. */
#ifndef DNSD_TESTADDR_H
#define DNSD_TESTADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* "192.0.2.1" or "2001:db8::1" with port 0; all zero (AF_UNSPEC) if neither. */
static inline struct sockaddr_storage test_addr(const char *text)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &a4->sin_addr) == 1)
        a4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1)
        a6->sin6_family = AF_INET6;
    return ss;
}

#endif
