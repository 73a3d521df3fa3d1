/* Unix sockets of every shape hotclone keeps, checked on the verify trigger:
 *   stream     a stream socketpair holding QUEUED bytes one way (each tick 16 more sent, 16
 *              read) and 100 the other way: both queues read back exactly, in order
 *   datagrams  a datagram socketpair holding three datagrams (each tick one more sent, one
 *              read): they read back with their boundaries and contents, then nothing
 *   shutdown   a seqpacket socketpair whose one end shut down writing after sending a
 *              packet: the other end reads the packet, then end of file
 *   listen     a stream socket listening on PATH.sock: bound there, it accepts a connection; a
 *              datagram socket bound to PATH.dgram: a datagram sent there reaches it
 *   flags      O_NONBLOCK on the reading ends, FD_CLOEXEC on the listening socket only
 *
 * usage: sockets --verify-file PATH [--self-test-corrupt stream|datagrams|shutdown|listen|flags]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#define QUEUED 2000
#define BACK 100
#define STEP 16

static int stream[2], datagrams[2], packets[2], listening, named;
static uint64_t sent, taken, first_datagram;
static struct sockaddr_un address, named_address;

static unsigned char at(uint64_t i)
{
    return (unsigned char)((i * 13 + 5) % 251);
}

static void send_stream(size_t n)
{
    unsigned char buf[QUEUED];
    for (size_t i = 0; i < n; i++)
        buf[i] = at(sent + i);
    if (send(stream[0], buf, n, 0) != (ssize_t)n)
        sc_die("send(stream)");
    sent += n;
}

/* Datagram k is "datagram k" padded with k % 7 dots. */
static int datagram(uint64_t k, char *buf)
{
    int n = sprintf(buf, "datagram %lu", (unsigned long)k);
    for (uint64_t i = 0; i < k % 7; i++)
        buf[n++] = '.';
    return n;
}

static void send_datagram(uint64_t k)
{
    char buf[64];
    int n = datagram(k, buf);
    if (send(datagrams[0], buf, (size_t)n, 0) != n)
        sc_die("send(datagram)");
}

static void tick(uint64_t t)
{
    send_stream(STEP);
    unsigned char buf[STEP];
    if (recv(stream[1], buf, STEP, 0) != STEP)
        sc_die("recv(stream)");
    taken += STEP;
    send_datagram(t + 3);
    char d[64];
    if (recv(datagrams[1], d, sizeof d, 0) < 0)
        sc_die("recv(datagram)");
    first_datagram = t + 1;
}

static void corrupt(const char *kind)
{
    char buf[64];
    if (strcmp(kind, "stream") == 0) {
        if (recv(stream[1], buf, 1, 0) != 1)
            sc_die("recv(stream)");
    } else if (strcmp(kind, "datagrams") == 0) {
        send_datagram(999);
    } else if (strcmp(kind, "shutdown") == 0) {
        if (recv(packets[1], buf, sizeof buf, 0) < 0)
            sc_die("recv(packet)");
    } else if (strcmp(kind, "listen") == 0) {
        int other = socket(AF_UNIX, SOCK_STREAM, 0);
        int plain = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (other < 0 || plain < 0 || dup3(other, listening, O_CLOEXEC) < 0 || dup2(plain, named) < 0)
            sc_die("socket/dup3");
    } else if (strcmp(kind, "flags") == 0) {
        fcntl(stream[1], F_SETFL, 0);
    }
}

static void verify_stream(void)
{
    unsigned char buf[QUEUED + STEP];
    ssize_t got = recv(stream[1], buf, sizeof buf, MSG_DONTWAIT);
    if ((uint64_t)got != sent - taken) {
        sc_fail("stream: %zd bytes queued, expected %lu", got, (unsigned long)(sent - taken));
        return;
    }
    for (ssize_t i = 0; i < got; i++)
        if (buf[i] != at(taken + i)) {
            sc_fail("stream: byte %lu is %u, expected %u", (unsigned long)(taken + i), buf[i], at(taken + i));
            return;
        }
    got = recv(stream[0], buf, sizeof buf, MSG_DONTWAIT);
    if (got != BACK || buf[0] != 'b' || buf[BACK - 1] != 'b')
        sc_fail("stream: %zd bytes queued the other way, expected %d", got, BACK);
}

static void verify_datagrams(void)
{
    for (uint64_t k = first_datagram; k < first_datagram + 3; k++) {
        char got[64], want[64];
        int n = datagram(k, want);
        ssize_t len = recv(datagrams[1], got, sizeof got, MSG_DONTWAIT);
        if (len != n || memcmp(got, want, (size_t)n) != 0) {
            sc_fail("datagrams: read %zd bytes '%.*s', expected '%.*s'", len, len > 0 ? (int)len : 0, got, n, want);
            return;
        }
    }
    char extra[64];
    if (recv(datagrams[1], extra, sizeof extra, MSG_DONTWAIT) >= 0)
        sc_fail("datagrams: a fourth datagram is queued");
}

static void verify_shutdown(void)
{
    char buf[64];
    ssize_t got = recv(packets[1], buf, sizeof buf, MSG_DONTWAIT);
    if (got != 6 || memcmp(buf, "packet", 6) != 0) {
        sc_fail("shutdown: read %zd bytes, expected the 6 of 'packet'", got);
        return;
    }
    got = recv(packets[1], buf, sizeof buf, MSG_DONTWAIT);
    if (got != 0)
        sc_fail("shutdown: read %zd after the packet, expected end of file (0)", got);
}

static void verify_listen(void)
{
    struct sockaddr_un bound = { 0 };
    socklen_t len = sizeof bound;
    if (getsockname(listening, (struct sockaddr *)&bound, &len) != 0 || strcmp(bound.sun_path, address.sun_path) != 0) {
        sc_fail("listen: bound to '%s', expected '%s'", bound.sun_path, address.sun_path);
        return;
    }
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&address, sizeof address) != 0) {
        sc_fail("listen: connect to %s: %s", address.sun_path, strerror(errno));
        return;
    }
    int accepted = accept(listening, NULL, NULL);
    if (accepted < 0)
        sc_fail("listen: accept: %s", strerror(errno));
    close(accepted);
    close(client);
    int sender = socket(AF_UNIX, SOCK_DGRAM, 0);
    char got[16];
    if (sendto(sender, "named", 5, 0, (struct sockaddr *)&named_address, sizeof named_address) != 5)
        sc_fail("listen: sending to %s: %s", named_address.sun_path, strerror(errno));
    else if (recv(named, got, sizeof got, MSG_DONTWAIT) != 5)
        sc_fail("listen: nothing reached the socket bound to %s", named_address.sun_path);
    close(sender);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1],
            (const char *const[]){ "stream", "datagrams", "shutdown", "listen", "flags", NULL });

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, stream) != 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, datagrams) != 0
        || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, packets) != 0)
        sc_die("socketpair");
    fcntl(stream[1], F_SETFL, O_NONBLOCK);
    fcntl(datagrams[1], F_SETFL, O_NONBLOCK);
    send_stream(QUEUED);
    char back[BACK];
    memset(back, 'b', BACK);
    if (send(stream[1], back, BACK, 0) != BACK)
        sc_die("send(back)");
    for (uint64_t k = 1; k <= 3; k++)
        send_datagram(k);
    first_datagram = 1;
    if (send(packets[0], "packet", 6, 0) != 6 || shutdown(packets[0], SHUT_WR) != 0)
        sc_die("send/shutdown(packet)");

    address.sun_family = AF_UNIX;
    snprintf(address.sun_path, sizeof address.sun_path, "%s.sock", verify_file);
    unlink(address.sun_path);
    listening = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listening < 0 || bind(listening, (struct sockaddr *)&address, sizeof address) != 0 || listen(listening, 8) != 0)
        sc_die("socket/bind/listen");

    named_address.sun_family = AF_UNIX;
    snprintf(named_address.sun_path, sizeof named_address.sun_path, "%s.dgram", verify_file);
    unlink(named_address.sun_path);
    named = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (named < 0 || bind(named, (struct sockaddr *)&named_address, sizeof named_address) != 0)
        sc_die("socket/bind(dgram)");

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption);
    if (!sc_has(stream[1], F_GETFL, O_NONBLOCK) || !sc_has(datagrams[1], F_GETFL, O_NONBLOCK) || sc_has(stream[0], F_GETFL, O_NONBLOCK)
        || !sc_has(listening, F_GETFD, FD_CLOEXEC) || sc_has(stream[1], F_GETFD, FD_CLOEXEC))
        sc_fail("flags: O_NONBLOCK or FD_CLOEXEC not as set");
    else
        verify_stream();
    verify_datagrams();
    verify_shutdown();
    verify_listen();
    return sc_verdict();
}
