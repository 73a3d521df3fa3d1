/* Memory the kernel writes for the program, as dirty tracking by page protection must let it:
 * every tick, into buffers in a large heap area that the program itself does not touch first,
 *   read      pread(2) and readv(2) of its data file (the file's bytes are a known pattern),
 *             and read(2) from a pipe it writes itself (the pipe is closed within the tick)
 *   child     a fork(2)ed child exits with a known status, reaped by wait4(2) whose status and
 *             rusage land in the heap
 *   stat      stat(2) of the data file into the heap: its size
 *   signal    raise(SIGUSR1) with the handler on a sigaltstack(2) in the heap, moved to another
 *             place in it each tick: it must run there and count
 * Each comes before the tick's fork (after which a tracker by page protection opens everything).
 * A call failing with EFAULT (its buffer found write-protected) is a failure at once.
 *
 * usage: kernelwrites --verify-file PATH [--self-test-corrupt read|child|stat|signal]
 * The data file is PATH.data, written at setup. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define AREA_BYTES (8UL << 20)
#define DATA_BYTES (256UL << 10)
#define CHUNK 4000 /* crosses page boundaries */
#define ALTSTACK_BYTES (64UL << 10)

static uint8_t *area;            /* the heap area the kernel writes into */
static uint8_t *altstack;        /* the signal stack of this tick, at the top of the area */
static volatile uint64_t raised; /* signals raised */
static volatile uint64_t handled;
static volatile uint64_t off_stack; /* handler runs not on the sigaltstack */
static uint64_t reads, children, stats;
static size_t last_at, last_offset; /* where the last pread landed, and from which file offset */

static uint8_t data_byte(size_t offset)
{
    return (uint8_t)(sc_pattern(offset / 8, 7) >> (offset % 8 * 8));
}

static void on_usr1(int sig)
{
    (void)sig;
    char local;
    if ((uint8_t *)&local < altstack || (uint8_t *)&local >= altstack + ALTSTACK_BYTES)
        off_stack++;
    handled++;
}

static int matches(const uint8_t *buf, size_t offset, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != data_byte(offset + i))
            return 0;
    return 1;
}

/* Somewhere in the area below the signal stack, stepping through it tick by tick. */
static uint8_t *spot(uint64_t tick, unsigned salt)
{
    size_t room = AREA_BYTES - 2 * ALTSTACK_BYTES - 2 * CHUNK;
    return area + (tick * 1048573UL + salt * 524309UL) % room;
}

static void tick_work(int data, uint64_t tick)
{
    altstack = area + AREA_BYTES - (tick % 2 + 1) * ALTSTACK_BYTES;
    stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_BYTES };
    if (sigaltstack(&ss, NULL) != 0)
        sc_fail("signal: sigaltstack: %s", strerror(errno));
    raised++;
    raise(SIGUSR1);

    size_t offset = (tick * 4099) % (DATA_BYTES - 2 * CHUNK);
    uint8_t *at = spot(tick, 1);
    ssize_t n = pread(data, at, CHUNK, (off_t)offset);
    if (n != CHUNK || !matches(at, offset, CHUNK))
        sc_fail("read: pread of %d bytes at %zu returned %zd (%s)", CHUNK, offset, n, n < 0 ? strerror(errno) : "bytes differ");
    last_at = (size_t)(at - area);
    last_offset = offset;

    uint8_t *a = spot(tick, 2), *b = spot(tick, 3);
    struct iovec iov[2] = { { a, CHUNK / 2 }, { b, CHUNK / 2 } };
    if (lseek(data, (off_t)offset, SEEK_SET) < 0 || readv(data, iov, 2) != CHUNK
            || !matches(a, offset, CHUNK / 2) || !matches(b, offset + CHUNK / 2, CHUNK / 2))
        sc_fail("read: readv at %zu: %s", offset, strerror(errno));

    int fds[2];
    if (pipe(fds) != 0)
        sc_die("pipe");
    uint8_t *p = spot(tick, 4);
    uint64_t word = sc_pattern(tick, 9);
    if (write(fds[1], &word, sizeof word) != sizeof word || read(fds[0], p, sizeof word) != sizeof word
            || memcmp(p, &word, sizeof word) != 0)
        sc_fail("read: the pipe lost a word: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    reads++;

    pid_t child = fork();
    if (child < 0)
        sc_die("fork");
    if (child == 0)
        _exit((int)(tick % 100));
    int *status = (int *)spot(tick, 5);
    struct rusage *usage = (struct rusage *)spot(tick, 6);
    if (wait4(child, status, 0, usage) != child || !WIFEXITED(*status) || WEXITSTATUS(*status) != (int)(tick % 100))
        sc_fail("child: wait4: %s", strerror(errno));
    children++;

    struct stat *st = (struct stat *)spot(tick, 7);
    if (fstat(data, st) != 0 || (size_t)st->st_size != DATA_BYTES)
        sc_fail("stat: fstat: %s", strerror(errno));
    stats++;

}

static void corrupt(const char *kind)
{
    if (strcmp(kind, "read") == 0)
        area[last_at + 17] ^= 0xff;
    else if (strcmp(kind, "child") == 0)
        children--;
    else if (strcmp(kind, "stat") == 0)
        stats--;
    else
        handled--;
}

static void verify(uint64_t ticks)
{
    if (!matches(area + last_at, last_offset, CHUNK))
        sc_fail("read: the last pread's bytes changed");
    if (reads != ticks || children != ticks || stats != ticks)
        sc_fail("%s: %lu reads, %lu children, %lu stats in %lu ticks",
                reads != ticks ? "read" : children != ticks ? "child" : "stat", (unsigned long)reads,
                (unsigned long)children, (unsigned long)stats, (unsigned long)ticks);
    if (handled != raised || off_stack != 0)
        sc_fail("signal: %lu of %lu signals handled, %lu off the signal stack", (unsigned long)handled,
                (unsigned long)raised, (unsigned long)off_stack);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "read", "child", "stat", "signal", NULL });

    char path[4096];
    snprintf(path, sizeof path, "%s.data", verify_file);
    int data = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (data < 0)
        sc_die(path);
    static uint8_t bytes[DATA_BYTES];
    for (size_t i = 0; i < DATA_BYTES; i++)
        bytes[i] = data_byte(i);
    if (write(data, bytes, DATA_BYTES) != (ssize_t)DATA_BYTES)
        sc_die("write data");

    area = malloc(AREA_BYTES);
    if (!area)
        sc_die("malloc");
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK | SA_RESTART };
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        sc_die("sigaction");

    sc_say("ready pid=%d", (int)getpid());
    uint64_t ticks = 0;
    for (;;) {
        ticks++;
        tick_work(data, ticks);
        sc_say("tick %lu", (unsigned long)ticks);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    if (corruption)
        corrupt(corruption);
    verify(ticks);
    return sc_verdict();
}
