/* Three timerfds and a signalfd, checked on the verify trigger:
 *   interval   a periodic CLOCK_MONOTONIC timerfd (every 20 ms, non-blocking, read each tick)
 *              keeps its interval and goes on firing
 *   remaining  a CLOCK_REALTIME one-shot set an hour ahead keeps counting down: what is left
 *              is at most an hour and at least an hour less the time the program ran
 *   clock      each keeps its clock, as /proc/self/fdinfo shows it
 *   ticks      a one-shot CLOCK_BOOTTIME timerfd (non-blocking) that expired at start and was
 *              never read reads back exactly one expiration
 *   mask       a signalfd of SIGUSR1 and SIGUSR2 keeps its mask
 *   signal     SIGUSR2, blocked and queued at start, is read from the signalfd
 *   flags      O_NONBLOCK and FD_CLOEXEC as set (the periodic and expired timerfds and the
 *              signalfd non-blocking, the one-shots close-on-exec)
 *
 * usage: timers --verify-file PATH [--self-test-corrupt interval|remaining|clock|ticks|mask|signal|flags]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>

#define PERIOD_NANOS 20000000L
#define HOUR 3600

static int periodic, oneshot, expired, signals;
static uint64_t fired;
static struct timespec started;

static void arm(int fd, time_t value_s, long value_ns, long interval_ns)
{
    struct itimerspec t = { .it_interval = { 0, interval_ns }, .it_value = { value_s, value_ns } };
    if (timerfd_settime(fd, 0, &t, NULL) != 0)
        sc_die("timerfd_settime");
}

static void tick(uint64_t t)
{
    (void)t;
    uint64_t n;
    if (read(periodic, &n, sizeof n) == sizeof n)
        fired += n;
    else if (errno != EAGAIN)
        sc_die("read(periodic timerfd)");
}

/* The value of "name:" in /proc/self/fdinfo/FD, or -1. */
static long long fdinfo(int fd, const char *name, int base)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f)
        sc_die("fopen(fdinfo)");
    long long value = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            value = strtoll(line + len + 1, NULL, base);
    fclose(f);
    return value;
}

static void corrupt(const char *kind)
{
    sigset_t one;
    sigemptyset(&one);
    if (strcmp(kind, "interval") == 0) {
        arm(periodic, 0, PERIOD_NANOS, PERIOD_NANOS + 1000);
    } else if (strcmp(kind, "remaining") == 0) {
        arm(oneshot, 2 * HOUR, 0, 0);
    } else if (strcmp(kind, "clock") == 0) {
        int other = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        arm(other, HOUR - 1, 0, 0);
        if (other < 0 || dup3(other, oneshot, O_CLOEXEC) < 0)
            sc_die("timerfd_create/dup3");
    } else if (strcmp(kind, "ticks") == 0) {
        arm(expired, 0, 1000000, 1000000); /* fires on: more than one expiration is read */
        struct timespec wait = { 0, 5000000 };
        nanosleep(&wait, NULL);
    } else if (strcmp(kind, "mask") == 0) {
        sigaddset(&one, SIGUSR2);
        if (signalfd(signals, &one, SFD_NONBLOCK) < 0)
            sc_die("signalfd");
    } else if (strcmp(kind, "signal") == 0) {
        struct signalfd_siginfo info;
        if (read(signals, &info, sizeof info) != sizeof info)
            sc_die("read(signalfd)");
    } else if (strcmp(kind, "flags") == 0) {
        fcntl(signals, F_SETFL, 0);
    }
}

static void verify(void)
{
    struct itimerspec t;
    if (timerfd_gettime(periodic, &t) != 0)
        sc_die("timerfd_gettime");
    if (t.it_interval.tv_sec != 0 || t.it_interval.tv_nsec != PERIOD_NANOS)
        sc_fail("interval: %ld.%09ld s, expected 0.%09ld", (long)t.it_interval.tv_sec, t.it_interval.tv_nsec,
                PERIOD_NANOS);
    uint64_t before = fired;
    struct pollfd p = { .fd = periodic, .events = POLLIN };
    if (poll(&p, 1, 2000) != 1)
        sc_fail("interval: the periodic timerfd did not fire within 2 s");
    tick(0);
    if (fired == before)
        sc_fail("interval: no expiration read after it fired");

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ran = now.tv_sec - started.tv_sec + 1;
    if (timerfd_gettime(oneshot, &t) != 0)
        sc_die("timerfd_gettime");
    if (t.it_value.tv_sec >= HOUR || t.it_value.tv_sec < HOUR - ran - 1 || t.it_interval.tv_sec != 0)
        sc_fail("remaining: %ld s left (interval %ld s), expected within [%ld, %d)", (long)t.it_value.tv_sec,
                (long)t.it_interval.tv_sec, HOUR - ran - 1, HOUR);

    if (fdinfo(periodic, "clockid", 10) != CLOCK_MONOTONIC || fdinfo(oneshot, "clockid", 10) != CLOCK_REALTIME
        || fdinfo(expired, "clockid", 10) != CLOCK_BOOTTIME)
        sc_fail("clock: clockids %lld, %lld, %lld, expected %d, %d, %d", fdinfo(periodic, "clockid", 10),
                fdinfo(oneshot, "clockid", 10), fdinfo(expired, "clockid", 10), CLOCK_MONOTONIC, CLOCK_REALTIME,
                CLOCK_BOOTTIME);

    uint64_t n = 0;
    if (read(expired, &n, sizeof n) != sizeof n || n != 1)
        sc_fail("ticks: read %lu expirations, expected 1", (unsigned long)n);

    long long mask = fdinfo(signals, "sigmask", 16);
    long long want = (1LL << (SIGUSR1 - 1)) | (1LL << (SIGUSR2 - 1));
    if (mask != want)
        sc_fail("mask: sigmask %llx, expected %llx", mask, want);
    struct signalfd_siginfo info;
    ssize_t got = read(signals, &info, sizeof info);
    if (got != sizeof info || info.ssi_signo != SIGUSR2)
        sc_fail("signal: read %zd bytes, signal %u, expected SIGUSR2 (%d)", got, got > 0 ? info.ssi_signo : 0,
                SIGUSR2);

    if (!sc_has(periodic, F_GETFL, O_NONBLOCK) || !sc_has(signals, F_GETFL, O_NONBLOCK) || sc_has(oneshot, F_GETFL, O_NONBLOCK)
        || !sc_has(expired, F_GETFL, O_NONBLOCK)
        || !sc_has(oneshot, F_GETFD, FD_CLOEXEC) || !sc_has(expired, F_GETFD, FD_CLOEXEC) || sc_has(signals, F_GETFD, FD_CLOEXEC))
        sc_fail("flags: O_NONBLOCK or FD_CLOEXEC not as set");
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1],
            (const char *const[]){ "interval", "remaining", "clock", "ticks", "mask", "signal", "flags", NULL });

    clock_gettime(CLOCK_MONOTONIC, &started);
    periodic = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    oneshot = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
    expired = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
        sc_die("sigprocmask");
    signals = signalfd(-1, &mask, SFD_NONBLOCK);
    if (periodic < 0 || oneshot < 0 || expired < 0 || signals < 0)
        sc_die("timerfd_create/signalfd");
    arm(periodic, 0, PERIOD_NANOS, PERIOD_NANOS);
    arm(oneshot, HOUR, 0, 0);
    arm(expired, 0, 1000, 0);
    struct pollfd p = { .fd = expired, .events = POLLIN };
    if (poll(&p, 1, 1000) != 1)
        sc_die("poll(expired timerfd)");
    raise(SIGUSR2);

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption);
    verify();
    return sc_verdict();
}
