/* Named pipes (FIFOs) with bytes queued in them, made next to the verify file (PATH.fifo-a,
 * PATH.fifo-b, PATH.fifo-c; left there, as a program's FIFOs are, and made anew at start):
 *   - FIFO A, opened once O_RDWR (close-on-exec), its capacity raised to 128 KiB: every tick the
 *     program writes 1000 bytes of a counted sequence into it and reads 700 back, so bytes pile up
 *     (up to BACKLOG_A, from where it reads as much as it writes)
 *   - FIFO B, opened twice: a read end (O_NONBLOCK) and a write end (blocking); every tick 300
 *     bytes go in and 200 come out (up to BACKLOG_B)
 *   - FIFO C, its write end held by a child (forked once, dying with its parent) that writes a
 *     counted byte every 10 ms, its read end by the parent, which reads what is there every tick
 * Pieces checked on the verify trigger:
 *   data      A and B hold exactly the bytes written and not read, in order, and nothing more
 *   child     C's bytes read before and at verify continue the child's count with no gap or repeat,
 *             and the count moves on within WAIT_SECONDS (the child writes into the restored FIFO)
 *   flags     B's read end is O_NONBLOCK, its write end not; A is close-on-exec
 *   capacity  A's buffer is 128 KiB
 *   path      each descriptor is a FIFO, the one at its path
 *
 * usage: fifos --verify-file PATH [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   data      the next byte expected from A is altered
 *   child     the next count expected from C is altered
 *   flags     B's read end is expected blocking
 *   capacity  A's expected capacity is altered
 *   path      B's write end is expected at A's path */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#define CAPACITY (128 * 1024)
#define BACKLOG_A 50000 /* once this much waits in A (or B), as much is read as written: the FIFOs never fill */
#define BACKLOG_B 30000
#define WAIT_SECONDS 4
#define PASS_NANOS 10000000L

static const char *corruption;
static char path_a[4096], path_b[4096], path_c[4096];
static int fd_a, fd_b_read, fd_b_write, fd_c;
static uint64_t written_a, read_a, written_b, read_b;
static unsigned char next_c;
static int c_started;
static uint64_t c_bytes;
static int expected_capacity = CAPACITY;
static const char *expected_path_b_write;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

/* Byte n of FIFO `which`'s sequence. */
static unsigned char byte_at(int which, uint64_t n)
{
    return (unsigned char)(sc_pattern(n / 8, (uint64_t)which) >> (n % 8 * 8));
}

static void put(int fd, int which, uint64_t *written, size_t count)
{
    unsigned char buf[1000];
    for (size_t i = 0; i < count; i++)
        buf[i] = byte_at(which, *written + i);
    if (write(fd, buf, count) != (ssize_t)count)
        sc_die("write");
    *written += count;
}

/* Reads up to count bytes, checking each against the sequence; returns how many it read. */
static size_t take(int fd, int which, uint64_t *read_so_far, size_t count, const char *what)
{
    unsigned char buf[1000];
    ssize_t got = read(fd, buf, count);
    if (got < 0)
        return 0;
    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] != byte_at(which, *read_so_far + (uint64_t)i)) {
            sc_fail("data: byte %lu of %s is %02x, expected %02x", (unsigned long)(*read_so_far + (uint64_t)i), what,
                    buf[i], byte_at(which, *read_so_far + (uint64_t)i));
            exit(sc_verdict());
        }
    }
    *read_so_far += (uint64_t)got;
    return (size_t)got;
}

static void read_c(void)
{
    unsigned char buf[4096];
    ssize_t got;
    while ((got = read(fd_c, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            if (c_started && buf[i] != next_c) {
                sc_fail("child: byte %lu from the child is %u, expected %u (a gap or a repeat)", (unsigned long)c_bytes,
                        buf[i], next_c);
                exit(sc_verdict());
            }
            c_started = 1;
            next_c = (unsigned char)(buf[i] + 1);
            c_bytes++;
        }
    }
}

static int fifo(const char *verify_file, const char *suffix, char *path)
{
    snprintf(path, 4096, "%s.%s", verify_file, suffix);
    unlink(path);
    return mkfifo(path, 0640);
}

static void start(const char *verify_file)
{
    if (fifo(verify_file, "fifo-a", path_a) || fifo(verify_file, "fifo-b", path_b) || fifo(verify_file, "fifo-c", path_c))
        sc_die("mkfifo");
    fd_a = open(path_a, O_RDWR | O_CLOEXEC);
    fd_b_read = open(path_b, O_RDONLY | O_NONBLOCK);
    fd_b_write = open(path_b, O_WRONLY);
    fd_c = open(path_c, O_RDONLY | O_NONBLOCK);
    if (fd_a < 0 || fd_b_read < 0 || fd_b_write < 0 || fd_c < 0)
        sc_die("open");
    if (fcntl(fd_a, F_SETPIPE_SZ, CAPACITY) < 0)
        sc_die("F_SETPIPE_SZ");
    expected_path_b_write = path_b;
    pid_t pid = fork();
    if (pid < 0)
        sc_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int out = open(path_c, O_WRONLY);
        if (out < 0)
            _exit(3);
        for (unsigned char n = 0;; n++) {
            if (write(out, &n, 1) != 1)
                _exit(4);
            struct timespec ts = { 0, PASS_NANOS };
            nanosleep(&ts, NULL);
        }
    }
}

static void tick(uint64_t t)
{
    (void)t;
    put(fd_a, 0, &written_a, 1000);
    take(fd_a, 0, &read_a, written_a - read_a > BACKLOG_A ? 1000 : 700, "FIFO A");
    put(fd_b_write, 1, &written_b, 300);
    take(fd_b_read, 1, &read_b, written_b - read_b > BACKLOG_B ? 300 : 200, "FIFO B");
    read_c();
}

static void check_path(int fd, const char *path, const char *what)
{
    struct stat by_fd, by_path;
    if (fstat(fd, &by_fd) != 0 || stat(path, &by_path) != 0)
        sc_fail("path: cannot stat %s: %s", what, strerror(errno));
    else if (!S_ISFIFO(by_fd.st_mode) || by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)
        sc_fail("path: %s is not the FIFO at %s", what, path);
}

static void verify(void)
{
    if (corrupting("data"))
        read_a += 1;
    if (corrupting("capacity"))
        expected_capacity *= 2;
    if (corrupting("path"))
        expected_path_b_write = path_a;

    check_path(fd_a, path_a, "FIFO A");
    check_path(fd_b_read, path_b, "FIFO B's read end");
    check_path(fd_b_write, expected_path_b_write, "FIFO B's write end");
    check_path(fd_c, path_c, "FIFO C's read end");

    int capacity = fcntl(fd_a, F_GETPIPE_SZ);
    if (capacity != expected_capacity)
        sc_fail("capacity: FIFO A holds %d bytes, expected %d", capacity, expected_capacity);
    int nonblocking = sc_has(fd_b_read, F_GETFL, O_NONBLOCK);
    if (nonblocking != !corrupting("flags") || sc_has(fd_b_write, F_GETFL, O_NONBLOCK))
        sc_fail("flags: FIFO B's read end is %sO_NONBLOCK, its write end %sO_NONBLOCK", nonblocking ? "" : "not ",
                sc_has(fd_b_write, F_GETFL, O_NONBLOCK) ? "" : "not ");
    if (!sc_has(fd_a, F_GETFD, FD_CLOEXEC))
        sc_fail("flags: FIFO A is not close-on-exec");

    if (fcntl(fd_a, F_SETFL, O_NONBLOCK) != 0)
        sc_die("F_SETFL");
    while (read_a < written_a)
        if (take(fd_a, 0, &read_a, 1000, "FIFO A") == 0)
            break;
    while (read_b < written_b)
        if (take(fd_b_read, 1, &read_b, 1000, "FIFO B") == 0)
            break;
    unsigned char extra;
    if (read_a != written_a || read_b != written_b)
        sc_fail("data: FIFO A gave %lu of %lu bytes, FIFO B %lu of %lu", (unsigned long)read_a,
                (unsigned long)written_a, (unsigned long)read_b, (unsigned long)written_b);
    else if (read(fd_a, &extra, 1) == 1 || read(fd_b_read, &extra, 1) == 1)
        sc_fail("data: a FIFO holds more bytes than were written into it");

    if (corrupting("child"))
        next_c += 1;
    uint64_t before = c_bytes;
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    while (c_bytes < before + 3 && sc_now_nanos() < deadline) {
        read_c();
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
    if (c_bytes < before + 3)
        sc_fail("child: %lu bytes from the child in %d s, expected 3 or more", (unsigned long)(c_bytes - before),
                WAIT_SECONDS);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1],
                           (const char *const[]){ "data", "child", "flags", "capacity", "path", NULL });

    start(verify_file);
    sc_tick_until_verify(verify_file, tick);
    verify();
    return sc_verdict();
}
