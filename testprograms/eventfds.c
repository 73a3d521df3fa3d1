/* Two eventfds whose counters move every tick, checked on the verify trigger:
 *   count      a blocking, close-on-exec eventfd counting ticks from a start above 2^32
 *              (eventfd2 takes a 32-bit initial value): it must read back exactly
 *   cloexec    FD_CLOEXEC set on that one and not on the other
 *   semaphore  a non-blocking eventfd in semaphore mode, each tick given 2 and read once:
 *              it must give 1 per read, exactly SEM_START + ticks times, then EAGAIN
 *   nonblock   O_NONBLOCK set on the semaphore one and not on the counting one
 *
 * usage: eventfds --verify-file PATH [--self-test-corrupt count|cloexec|semaphore|nonblock]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#define COUNT_START ((1ULL << 40) + 7)
#define SEM_START 5

static uint64_t ticks;
static int counting;
static int semaphore;

static void add(int fd, uint64_t n)
{
    if (write(fd, &n, sizeof n) != sizeof n)
        sc_die("write(eventfd)");
}

static void tick(uint64_t t)
{
    (void)t;
    ticks++;
    add(counting, 1);
    add(semaphore, 2);
    uint64_t one;
    if (read(semaphore, &one, sizeof one) != sizeof one)
        sc_die("read(semaphore eventfd)");
}

static void corrupt(const char *kind)
{
    if (strcmp(kind, "count") == 0) {
        add(counting, 1);
    } else if (strcmp(kind, "cloexec") == 0) {
        fcntl(counting, F_SETFD, 0);
    } else if (strcmp(kind, "semaphore") == 0) {
        /* The same count and flags, without semaphore mode. */
        int plain = eventfd(SEM_START + ticks, EFD_NONBLOCK);
        if (plain < 0 || dup2(plain, semaphore) < 0)
            sc_die("eventfd/dup2");
        close(plain);
    } else if (strcmp(kind, "nonblock") == 0) {
        fcntl(semaphore, F_SETFL, 0);
    }
}

static void verify_count(void)
{
    struct pollfd p = { .fd = counting, .events = POLLIN };
    if (poll(&p, 1, 0) != 1) {
        sc_fail("count: nothing to read (count 0), expected %lu", (unsigned long)(COUNT_START + ticks));
        return;
    }
    uint64_t count;
    if (read(counting, &count, sizeof count) != sizeof count)
        sc_die("read(counting eventfd)");
    if (count != COUNT_START + ticks)
        sc_fail("count: %lu, expected %lu", (unsigned long)count, (unsigned long)(COUNT_START + ticks));
}

/* Drains the semaphore eventfd, which must be non-blocking (checked first). */
static void verify_semaphore(void)
{
    uint64_t reads = 0;
    uint64_t got;
    while (read(semaphore, &got, sizeof got) == sizeof got) {
        if (got != 1) {
            sc_fail("semaphore: a read gave %lu, expected 1 (not in semaphore mode)", (unsigned long)got);
            return;
        }
        reads++;
    }
    if (errno != EAGAIN)
        sc_die("read(semaphore eventfd)");
    if (reads != SEM_START + ticks)
        sc_fail("semaphore: %lu reads until EAGAIN, expected %lu", (unsigned long)reads,
                (unsigned long)(SEM_START + ticks));
}

static void verify(void)
{
    if (!sc_has(counting, F_GETFD, FD_CLOEXEC) || sc_has(semaphore, F_GETFD, FD_CLOEXEC))
        sc_fail("cloexec: FD_CLOEXEC %d on the counting eventfd, %d on the semaphore one (expected 1, 0)",
                sc_has(counting, F_GETFD, FD_CLOEXEC), sc_has(semaphore, F_GETFD, FD_CLOEXEC));
    int nonblock = sc_has(semaphore, F_GETFL, O_NONBLOCK);
    if (!nonblock || sc_has(counting, F_GETFL, O_NONBLOCK))
        sc_fail("nonblock: O_NONBLOCK %d on the counting eventfd, %d on the semaphore one (expected 0, 1)",
                sc_has(counting, F_GETFL, O_NONBLOCK), nonblock);
    verify_count();
    if (nonblock) /* draining a blocking one would hang */
        verify_semaphore();
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "count", "cloexec", "semaphore", "nonblock", NULL });

    counting = eventfd(0, EFD_CLOEXEC);
    semaphore = eventfd(SEM_START, EFD_SEMAPHORE | EFD_NONBLOCK);
    if (counting < 0 || semaphore < 0)
        sc_die("eventfd");
    add(counting, COUNT_START);

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption);
    verify();
    return sc_verdict();
}
