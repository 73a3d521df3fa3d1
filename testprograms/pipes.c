/* Pipes with bytes queued in them and a shared open file, checked on the verify trigger:
 *   data      a pipe holding QUEUED bytes, each tick given 16 more and read 16: what is
 *             queued reads back exactly, in order (the stream is (i * 7 + 3) mod 251)
 *   capacity  a second pipe enlarged to 1 MiB (F_SETPIPE_SZ) keeps its capacity
 *   flags     O_NONBLOCK on the first pipe's read end and on the second's write end only,
 *             FD_CLOEXEC on the second's read end only
 *   dup       a file opened once and dup'ed, written through one descriptor each tick, the
 *             other's offset moving with it: one open file after a restore as before
 *
 * usage: pipes --verify-file PATH [--self-test-corrupt data|capacity|flags|dup]
 * The file of the dup check is PATH.dup.
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#define QUEUED 3000
#define STEP 16
#define BIG (1 << 20)

static int stream[2], big[2], file, twin;
static uint64_t written, taken;

static unsigned char at(uint64_t i)
{
    return (unsigned char)((i * 7 + 3) % 251);
}

static void put(size_t n)
{
    unsigned char buf[QUEUED];
    for (size_t i = 0; i < n; i++)
        buf[i] = at(written + i);
    if (write(stream[1], buf, n) != (ssize_t)n)
        sc_die("write(pipe)");
    written += n;
}

static void tick(uint64_t t)
{
    (void)t;
    put(STEP);
    unsigned char buf[STEP];
    if (read(stream[0], buf, STEP) != STEP)
        sc_die("read(pipe)");
    taken += STEP;
    if (write(file, "x", 1) != 1)
        sc_die("write(file)");
}

static void corrupt(const char *kind, const char *path)
{
    if (strcmp(kind, "data") == 0) {
        unsigned char one;
        if (read(stream[0], &one, 1) != 1)
            sc_die("read(pipe)");
    } else if (strcmp(kind, "capacity") == 0) {
        fcntl(big[0], F_SETPIPE_SZ, 65536);
    } else if (strcmp(kind, "flags") == 0) {
        fcntl(big[1], F_SETFL, 0);
    } else if (strcmp(kind, "dup") == 0) {
        /* The same file at the same offset, but an open file of its own. */
        int other = open(path, O_WRONLY);
        if (other < 0 || lseek(other, lseek(file, 0, SEEK_CUR), SEEK_SET) < 0 || dup2(other, twin) < 0)
            sc_die("open/dup2");
        close(other);
    }
}

static void verify(void)
{
    if (!sc_has(stream[0], F_GETFL, O_NONBLOCK) || sc_has(stream[1], F_GETFL, O_NONBLOCK) || sc_has(big[0], F_GETFL, O_NONBLOCK)
        || !sc_has(big[1], F_GETFL, O_NONBLOCK) || !sc_has(big[0], F_GETFD, FD_CLOEXEC) || sc_has(big[1], F_GETFD, FD_CLOEXEC)
        || sc_has(stream[0], F_GETFD, FD_CLOEXEC))
        sc_fail("flags: O_NONBLOCK or FD_CLOEXEC not as set");

    int capacity = fcntl(big[0], F_GETPIPE_SZ);
    if (capacity != BIG)
        sc_fail("capacity: %d bytes, expected %d", capacity, BIG);

    int queued = -1;
    ioctl(stream[0], FIONREAD, &queued);
    if ((uint64_t)queued != written - taken) {
        sc_fail("data: %d bytes queued, expected %lu", queued, (unsigned long)(written - taken));
    } else if (sc_has(stream[0], F_GETFL, O_NONBLOCK)) {
        unsigned char buf[QUEUED + STEP];
        ssize_t got = read(stream[0], buf, sizeof buf);
        for (ssize_t i = 0; i < got; i++)
            if (buf[i] != at(taken + i)) {
                sc_fail("data: byte %lu of the stream is %u, expected %u", (unsigned long)(taken + i), buf[i],
                        at(taken + i));
                break;
            }
    }

    off_t before = lseek(twin, 0, SEEK_CUR);
    if (write(file, "y", 1) != 1)
        sc_die("write(file)");
    if (lseek(twin, 0, SEEK_CUR) != before + 1 || before != (off_t)taken / STEP)
        sc_fail("dup: the dup's offset went from %ld to %ld (expected %ld to %ld) as its twin wrote",
                (long)before, (long)lseek(twin, 0, SEEK_CUR), (long)(taken / STEP), (long)(taken / STEP + 1));
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1],
            (const char *const[]){ "data", "capacity", "flags", "dup", NULL });

    char path[4096];
    snprintf(path, sizeof path, "%s.dup", verify_file);
    file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (file < 0 || (twin = dup(file)) < 0)
        sc_die("open/dup");
    if (pipe(stream) != 0 || pipe2(big, 0) != 0)
        sc_die("pipe");
    fcntl(stream[0], F_SETFL, O_NONBLOCK);
    fcntl(big[1], F_SETFL, O_NONBLOCK);
    fcntl(big[0], F_SETFD, FD_CLOEXEC);
    if (fcntl(big[0], F_SETPIPE_SZ, BIG) != BIG)
        sc_die("F_SETPIPE_SZ");
    put(QUEUED);

    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        corrupt(corruption, path);
    verify();
    return sc_verdict();
}
