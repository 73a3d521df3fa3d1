/* An epoll whose interest list survives, checked on the verify trigger:
 *   data     three eventfds watched with data of their own (a counter's number, a pointer-like
 *            word, a small int): each tick makes one ready and epoll_wait must hand back its data
 *   events   the level-triggered one stays ready until read, the edge-triggered one (EPOLLET)
 *            reports once per write, the one-shot one (EPOLLONESHOT) once until re-armed
 *   list     all three are still watched: made ready together, epoll_wait reports exactly them
 *            (the one-shot one through a dup of its eventfd, as the epoll watches the duplicate)
 *   cloexec  FD_CLOEXEC set on the epoll (epoll_create1(EPOLL_CLOEXEC))
 *
 * usage: epolls --verify-file PATH [--self-test-corrupt data|events|list|cloexec]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#define WATCHED 3

static int epoll;
static int fds[WATCHED];
static const uint64_t data[WATCHED] = { 0x1122334455667788ULL, 0x00007f0012345678ULL, 42 };
static const uint32_t events[WATCHED] = { EPOLLIN, EPOLLIN | EPOLLET, EPOLLIN | EPOLLONESHOT };

static void poke(int i)
{
    uint64_t one = 1;
    if (write(fds[i], &one, sizeof one) != sizeof one)
        sc_die("write(eventfd)");
}

static void drain(int i)
{
    uint64_t n;
    if (read(fds[i], &n, sizeof n) != sizeof n)
        sc_die("read(eventfd)");
}

/* The data epoll_wait reports now, as a bit set of the watched ones found (by data), or -1 for unknown data. */
static int ready(void)
{
    struct epoll_event got[8];
    int n = epoll_wait(epoll, got, 8, 0);
    if (n < 0)
        sc_die("epoll_wait");
    int found = 0;
    for (int k = 0; k < n; k++) {
        int known = 0;
        for (int i = 0; i < WATCHED; i++) {
            if (got[k].data.u64 == data[i]) {
                found |= 1 << i;
                known = 1;
            }
        }
        if (!known)
            return -1;
    }
    return found;
}

static void rearm_oneshot(void)
{
    struct epoll_event e = { .events = events[2], .data.u64 = data[2] };
    if (epoll_ctl(epoll, EPOLL_CTL_MOD, fds[2], &e) != 0)
        sc_die("epoll_ctl(MOD)");
}

/* One tick: the watched one of the tick is made ready, reported with its data, and drained. */
static void tick(uint64_t t)
{
    int i = (int)(t % WATCHED);
    poke(i);
    int r = ready();
    if (r != (1 << i))
        sc_fail("data: tick %lu made fd %d ready and epoll_wait reported set %d", (unsigned long)t, fds[i], r);
    drain(i);
    if (i == 2)
        rearm_oneshot();
}

static void corrupt(const char *kind)
{
    if (strcmp(kind, "data") == 0) {
        struct epoll_event e = { .events = events[0], .data.u64 = 7 };
        epoll_ctl(epoll, EPOLL_CTL_MOD, fds[0], &e);
    } else if (strcmp(kind, "events") == 0) {
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = data[1] }; /* no longer edge-triggered */
        epoll_ctl(epoll, EPOLL_CTL_MOD, fds[1], &e);
    } else if (strcmp(kind, "list") == 0) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fds[2], NULL);
    } else if (strcmp(kind, "cloexec") == 0) {
        fcntl(epoll, F_SETFD, 0);
    }
}

static void verify(void)
{
    if (!(fcntl(epoll, F_GETFD) & FD_CLOEXEC))
        sc_fail("cloexec: FD_CLOEXEC is not set on the epoll");
    for (int i = 0; i < WATCHED; i++)
        poke(i);
    int all = ready();
    if (all < 0) {
        sc_fail("data: epoll_wait handed back data that none of the watched eventfds was given");
        return;
    }
    if (all != 7) {
        sc_fail("list: all three watched eventfds ready, epoll_wait reported set %d", all);
        return;
    }
    /* Nothing read: the level-triggered one is reported again, the edge-triggered and one-shot ones are not. */
    int again = ready();
    if (again != 1)
        sc_fail("events: without a read or a new write, epoll_wait reported set %d again (expected 1: the"
                " level-triggered one only)", again);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "data", "events", "list", "cloexec", NULL });

    epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0)
        sc_die("epoll_create1");
    int original = -1;
    for (int i = 0; i < WATCHED; i++) {
        fds[i] = eventfd(0, EFD_NONBLOCK);
        if (i == WATCHED - 1) {
            original = fds[i];
            fds[i] = dup(original);
        }
        struct epoll_event e = { .events = events[i], .data.u64 = data[i] };
        if (fds[i] < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &e) != 0)
            sc_die("eventfd/epoll_ctl(ADD)");
    }
    if (original < 0)
        sc_die("dup");

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption);
    verify();
    return sc_verdict();
}
