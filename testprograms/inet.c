/* TCP and UDP sockets that hold no connection, checked on the verify trigger:
 *   port      a TCP listener on 127.0.0.1 and one on [::1] keep their ports (picked by the
 *             kernel at start) and accept a connection each
 *   options   SO_REUSEADDR and TCP_NODELAY on the IPv4 listener, IPV6_V6ONLY on the IPv6 one,
 *             SO_KEEPALIVE on neither, as set
 *   udp       a UDP socket bound on 127.0.0.1 and connected to a second one: a datagram it
 *             sends reaches the second, from its port
 *   flags     O_NONBLOCK on the IPv4 listener only
 *
 * usage: inet --verify-file PATH [--self-test-corrupt port|options|udp|flags]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static int v4, v6, sender, receiver;
static int v4_port, v6_port, sender_port, receiver_port;

static int port_of(int fd)
{
    struct sockaddr_in6 a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        sc_die("getsockname");
    return ntohs(a.sin6_port); /* sin_port sits where sin6_port does */
}

static int option(int fd, int level, int name)
{
    int value = -1;
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) != 0)
        sc_die("getsockopt");
    return value != 0;
}

static void on(int fd, int level, int name)
{
    int one = 1;
    if (setsockopt(fd, level, name, &one, sizeof one) != 0)
        sc_die("setsockopt");
}

static int listener4(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    on(fd, SOL_SOCKET, SO_REUSEADDR);
    on(fd, IPPROTO_TCP, TCP_NODELAY);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0)
        sc_die("bind/listen(IPv4)");
    return fd;
}

static int udp(int connect_to)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        sc_die("bind(UDP)");
    if (connect_to) {
        a.sin_port = htons((uint16_t)connect_to);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
            sc_die("connect(UDP)");
    }
    return fd;
}

static void tick(uint64_t t)
{
    (void)t;
}

static void corrupt(const char *kind)
{
    if (strcmp(kind, "port") == 0) {
        int other = listener4();
        if (dup2(other, v4) < 0)
            sc_die("dup2");
        close(other);
        fcntl(v4, F_SETFL, O_NONBLOCK);
    } else if (strcmp(kind, "options") == 0) {
        on(v4, SOL_SOCKET, SO_KEEPALIVE);
    } else if (strcmp(kind, "udp") == 0) {
        struct sockaddr unspec = { .sa_family = AF_UNSPEC };
        connect(sender, &unspec, sizeof unspec);
    } else if (strcmp(kind, "flags") == 0) {
        fcntl(v4, F_SETFL, 0);
    }
}

static void accepts(int listener, int family, const char *name)
{
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)v6_port), .sin6_addr = in6addr_loopback };
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)v4_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int client = socket(family, SOCK_STREAM, 0);
    int r = family == AF_INET ? connect(client, (struct sockaddr *)&a4, sizeof a4)
                              : connect(client, (struct sockaddr *)&a6, sizeof a6);
    if (r != 0) {
        sc_fail("port: connecting to the %s listener: %s", name, strerror(errno));
    } else {
        int flags = fcntl(listener, F_GETFL);
        fcntl(listener, F_SETFL, flags & ~O_NONBLOCK);
        int accepted = accept(listener, NULL, NULL);
        fcntl(listener, F_SETFL, flags);
        if (accepted < 0)
            sc_fail("port: the %s listener accepts nothing: %s", name, strerror(errno));
        close(accepted);
    }
    close(client);
}

static void verify(void)
{
    if (!sc_has(v4, F_GETFL, O_NONBLOCK) || sc_has(v6, F_GETFL, O_NONBLOCK))
        sc_fail("flags: O_NONBLOCK %d on the IPv4 listener, %d on the IPv6 one (expected 1, 0)",
                sc_has(v4, F_GETFL, O_NONBLOCK), sc_has(v6, F_GETFL, O_NONBLOCK));
    if (port_of(v4) != v4_port || port_of(v6) != v6_port)
        sc_fail("port: listening on %d and %d, expected %d and %d", port_of(v4), port_of(v6), v4_port, v6_port);
    else {
        accepts(v4, AF_INET, "IPv4");
        accepts(v6, AF_INET6, "IPv6");
    }
    if (!option(v4, SOL_SOCKET, SO_REUSEADDR) || !option(v4, IPPROTO_TCP, TCP_NODELAY) || !option(v6, IPPROTO_IPV6, IPV6_V6ONLY)
        || option(v4, SOL_SOCKET, SO_KEEPALIVE) || option(v6, SOL_SOCKET, SO_KEEPALIVE))
        sc_fail("options: SO_REUSEADDR %d, TCP_NODELAY %d, IPV6_V6ONLY %d, SO_KEEPALIVE %d %d (expected 1, 1, 1, 0, 0)",
                option(v4, SOL_SOCKET, SO_REUSEADDR), option(v4, IPPROTO_TCP, TCP_NODELAY),
                option(v6, IPPROTO_IPV6, IPV6_V6ONLY), option(v4, SOL_SOCKET, SO_KEEPALIVE),
                option(v6, SOL_SOCKET, SO_KEEPALIVE));

    if (send(sender, "datagram", 8, 0) != 8) {
        sc_fail("udp: send: %s", strerror(errno));
        return;
    }
    char buf[16];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t got = recvfrom(receiver, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
    for (int i = 0; got < 0 && errno == EAGAIN && i < 100; i++) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
        got = recvfrom(receiver, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
    }
    if (got != 8 || ntohs(from.sin_port) != sender_port || port_of(receiver) != receiver_port)
        sc_fail("udp: received %zd bytes from port %d on port %d, expected 8 from %d on %d", got,
                got > 0 ? ntohs(from.sin_port) : 0, port_of(receiver), sender_port, receiver_port);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "port", "options", "udp", "flags", NULL });

    v4 = listener4();
    fcntl(v4, F_SETFL, O_NONBLOCK);
    v6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
    on(v6, IPPROTO_IPV6, IPV6_V6ONLY);
    if (bind(v6, (struct sockaddr *)&a6, sizeof a6) != 0 || listen(v6, 4) != 0)
        sc_die("bind/listen(IPv6)");
    v4_port = port_of(v4);
    v6_port = port_of(v6);
    receiver = udp(0);
    receiver_port = port_of(receiver);
    sender = udp(receiver_port);
    sender_port = port_of(sender);

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption);
    verify();
    return sc_verdict();
}
