/* The protocol every self-checking test program follows (as CRIU's zdtm tests do):
 * set up, print "ready pid=N", then loop printing "tick N" about every 100 ms; when the
 * file named by --verify-file exists, check every piece of state, print one "FAIL: what"
 * line per broken piece or "PASS", and exit 1 or 0.
 * A file trigger, not a signal: signal state is itself under test. */
#ifndef SELFCHECK_H
#define SELFCHECK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_NANOS 100000000L

static unsigned sc_failures;

/* One line, one write(2): stdout is a file that tests read while we run. */
static void sc_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sc_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void sc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sc_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    sc_failures++;
}

/* Setup errors are not verdicts: they mean the program could not start. */
static void sc_die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(2);
}

static int sc_verdict(void)
{
    if (sc_failures == 0)
        sc_say("PASS");
    return sc_failures == 0 ? 0 : 1;
}

static int sc_verify_requested(const char *verify_file)
{
    return access(verify_file, F_OK) == 0;
}

/* Interrupted early by a signal is fine: the tick period is only approximate. */
static void sc_nap(void)
{
    struct timespec ts = { 0, TICK_NANOS };
    nanosleep(&ts, NULL);
}

/* Whether fcntl(fd, cmd) (F_GETFL or F_GETFD) shows flag. */
__attribute__((unused)) static int sc_has(int fd, int cmd, int flag)
{
    int flags = fcntl(fd, cmd);
    if (flags < 0)
        sc_die("fcntl");
    return (flags & flag) != 0;
}

/* Says "ready pid=N", then ticks: tick(t) for t = 1, 2 ..., each said "tick t" and followed by
 * a nap, until the verify file appears (after a tick, before its nap). */
__attribute__((unused)) static void sc_tick_until_verify(const char *verify_file, void (*tick)(uint64_t t))
{
    sc_say("ready pid=%d", (int)getpid());
    for (uint64_t t = 1;; t++) {
        tick(t);
        sc_say("tick %lu", (unsigned long)t);
        if (sc_verify_requested(verify_file))
            return;
        sc_nap();
    }
}

/* Every option takes a value. names[] ends with NULL; values[i] receives the value of
 * names[i] or stays NULL. Exits 2 on an unknown option or a missing value. */
static void sc_parse(int argc, char **argv, const char *const names[], const char *values[])
{
    for (int a = 1; a < argc; a += 2) {
        int known = 0;
        for (int i = 0; names[i]; i++) {
            if (strcmp(argv[a], names[i]) == 0 && a + 1 < argc) {
                values[i] = argv[a + 1];
                known = 1;
            }
        }
        if (!known) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], argv[a]);
            exit(2);
        }
    }
}

static const char *sc_required(const char *value, const char *name)
{
    if (!value) {
        fprintf(stderr, "missing required option %s\n", name);
        exit(2);
    }
    return value;
}

/* The value of option `name` if it is one of `choices` (NULL-terminated) or absent (NULL); any other
 * value is a usage error naming the choices (exit 2). */
__attribute__((unused)) static const char *sc_one_of(const char *value, const char *name, const char *const choices[])
{
    if (!value)
        return NULL;
    for (int i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return value;
    fprintf(stderr, "%s takes", name);
    for (int i = 0; choices[i]; i++)
        fprintf(stderr, "%s%s", i == 0 ? " " : choices[i + 1] ? ", " : " or ", choices[i]);
    fprintf(stderr, ", not %s\n", value);
    exit(2);
}

/* A well-mixed 64-bit word from (offset, generation): splitmix64's finaliser. */
static uint64_t sc_pattern(uint64_t offset, uint64_t generation)
{
    uint64_t x = offset * 0x9E3779B97F4A7C15ULL + (generation + 1) * 0xD1B54A32D192ED03ULL;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return x;
}

/* Fails the piece named `what` at the first of `count` words that is not sc_pattern(i, generation). */
__attribute__((unused)) static void sc_check_pattern(const uint64_t *words, size_t count, uint64_t generation, const char *what)
{
    for (size_t i = 0; i < count; i++) {
        if (words[i] != sc_pattern(i, generation)) {
            sc_fail("%s: word %zu is %016lx, expected %016lx", what, i, (unsigned long)words[i],
                    (unsigned long)sc_pattern(i, generation));
            return;
        }
    }
}

/* The CLOCK_MONOTONIC time in ns. */
__attribute__((unused)) static int64_t sc_now_nanos(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads n bytes: 1, or 0 at end of file, -1 on an error (errno), -2 once past the deadline (a
 * CLOCK_MONOTONIC time in ns; 0 for none). */
__attribute__((unused)) static int sc_read_full(int fd, void *buf, size_t n, int64_t deadline)
{
    size_t got = 0;
    while (got < n) {
        if (deadline) {
            int64_t left = deadline - sc_now_nanos();
            if (left <= 0)
                return -2;
            struct pollfd p = { .fd = fd, .events = POLLIN };
            int r = poll(&p, 1, (int)(left / 1000000) + 1);
            if (r < 0 && errno != EINTR)
                return -1;
            if (r <= 0)
                continue;
        }
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return (int)k;
        got += (size_t)k;
    }
    return 1;
}

/* Writes n bytes: 1, or 0 on an error (errno). */
__attribute__((unused)) static int sc_write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, (const char *)buf + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return 0;
        done += (size_t)k;
    }
    return 1;
}

/* How a child ended, from its wait status, for a FAIL line. */
__attribute__((unused)) static void sc_describe_status(int status, char *how, size_t size)
{
    if (WIFEXITED(status))
        snprintf(how, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(how, size, "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(how, size, "ended with wait status %#x", status);
}

#endif
