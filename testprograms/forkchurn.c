/* Child processes that come and go: every tick the parent makes a pipe and forks a child, which
 * sleeps 40 ms, writes one word into the pipe and exits; the parent reads the word and reaps the
 * child within the tick, so a checkpoint finds one such child or none (and between ticks no pipe
 * and no zombie), and a child that was there at one checkpoint is gone at the next. Beside them
 * a long-lived child, forked at the start, stays blocked in read() on a pipe from the parent.
 *   value      every tick's child wrote tick * 7 + 1 into its pipe (the parent's read blocks)
 *   status     every tick's child exited (WIFEXITED) with status tick % 200, reaped by a blocking
 *              waitpid
 *   pid        every tick's child had a pid other than the previous tick's child's
 *   longlived  at verify time the parent writes a byte to the long-lived child, which answers
 *              through a second pipe with its getpid() and getppid(): the pid fork returned and
 *              the parent's getpid(); it then exits 0 and is reaped
 * Every child sets its parent-death signal to SIGKILL right after the fork (and exits at once if
 * getppid() changed before that): a child dies with its parent.
 *
 * usage: forkchurn --verify-file PATH [--self-test-corrupt value|status|pid|longlived]
 * --self-test-corrupt breaks one piece, to prove its check can fail:
 *   value      the parent expects a wrong value once (tick 1)
 *   status     the parent expects a wrong exit status once (tick 1)
 *   pid        the parent takes the previous child's pid to be this child's once (tick 2)
 *   longlived  the parent checks the long-lived child's parent pid against a wrong value */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#define CHILD_NANOS 40000000L
#define WAIT_SECONDS 4
#define ORPHANED 255 /* a child's exit status when its parent died before the prctl */
#define UNWRITTEN 254 /* a child's exit status when its write failed */

static const char *corruption;

/* The long-lived child, and the parent's ends of its pipes: ask (parent to child), answer. */
static pid_t longlived = -1;
static int ask_out = -1, answer_in = -1;

/* The tick children: counts, and the first bad one per piece. */
static uint64_t ticks, children, good, bad;
static uint64_t bad_values, bad_value_tick, bad_value_got, bad_value_due;
static char bad_value_error[64]; /* a read that got no word */
static uint64_t bad_statuses, bad_status_tick;
static int bad_status, bad_status_due;
static uint64_t same_pids, same_pid_tick;
static pid_t same_pid, last_pid = -1;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

/* Right after a fork: the parent-death signal, unless the parent (`parent`) is already gone. */
static void die_with(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(ORPHANED);
}

static void sleep_through_signals(long nanos)
{
    struct timespec left = { 0, nanos };
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

/* A tick's child: sleeps, writes tick * 7 + 1 to `out`, exits with tick % 200. */
static void tick_child(uint64_t t, pid_t parent, int out)
{
    die_with(parent);
    sleep_through_signals(CHILD_NANOS);
    uint64_t value = t * 7 + 1;
    if (!sc_write_full(out, &value, sizeof value))
        _exit(UNWRITTEN);
    _exit((int)(t % 200));
}

/* The long-lived child: waits in read() for the parent's byte, answers with its pid and its
 * parent's, exits 0. End of file or an error means the parent is gone. */
static void longlived_child(pid_t parent, int in, int out)
{
    die_with(parent);
    char byte;
    ssize_t k;
    while ((k = read(in, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (k != 1)
        _exit(3);
    int32_t ids[2] = { (int32_t)getpid(), (int32_t)getppid() };
    if (!sc_write_full(out, ids, sizeof ids))
        _exit(3);
    _exit(0);
}

static void tick(uint64_t t)
{
    ticks++;
    int fds[2];
    if (pipe(fds) != 0)
        sc_die("pipe");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        sc_die("fork");
    if (pid == 0) {
        close(fds[0]);
        close(ask_out);
        close(answer_in);
        tick_child(t, parent, fds[1]);
    }
    children++;
    close(fds[1]);
    uint64_t value = 0;
    int r = sc_read_full(fds[0], &value, sizeof value, 0), read_errno = errno;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) != pid) {
        if (errno != EINTR)
            sc_die("waitpid");
    }

    int broken = 0;
    uint64_t value_due = t * 7 + (corrupting("value") && t == 1 ? 2 : 1);
    if (r != 1 || value != value_due) {
        broken = 1;
        if (bad_values++ == 0) {
            bad_value_tick = t;
            bad_value_got = value;
            bad_value_due = value_due;
            snprintf(bad_value_error, sizeof bad_value_error, "%s", r == 1 ? "" : r == 0 ? "end of file" : strerror(read_errno));
        }
    }
    int status_due = (int)(t % 200) + (corrupting("status") && t == 1 ? 1 : 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != status_due) {
        broken = 1;
        if (bad_statuses++ == 0) {
            bad_status_tick = t;
            bad_status = status;
            bad_status_due = status_due;
        }
    }
    pid_t previous = corrupting("pid") && t == 2 ? pid : last_pid;
    if (pid == previous) {
        broken = 1;
        if (same_pids++ == 0) {
            same_pid_tick = t;
            same_pid = pid;
        }
    }
    last_pid = pid;
    if (broken)
        bad++;
    else
        good++;
}

/* Waits for the long-lived child until the deadline, then kills it; 1 with its status, 0 if it
 * had to be killed. */
static int reap_longlived(int *status, int64_t deadline)
{
    for (;;) {
        pid_t r = waitpid(longlived, status, WNOHANG);
        if (r == longlived)
            return 1;
        if (r < 0 && errno != EINTR)
            sc_die("waitpid");
        if (sc_now_nanos() > deadline) {
            kill(longlived, SIGKILL);
            while (waitpid(longlived, status, 0) != longlived) {
                if (errno != EINTR)
                    sc_die("waitpid");
            }
            return 0;
        }
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
}

/* Appends to a FAIL line's text. */
static void note(char *notes, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *notes, size_t size, const char *fmt, ...)
{
    size_t used = strlen(notes);
    if (used > 0 && used + 2 < size) {
        strcpy(notes + used, "; ");
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + used, size - used, fmt, ap);
    va_end(ap);
}

static void verify_longlived(void)
{
    char notes[512] = "";
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    char byte = 'v';
    int32_t ids[2];
    int r = 0;
    if (!sc_write_full(ask_out, &byte, 1))
        note(notes, sizeof notes, "the byte could not be sent: %s", strerror(errno));
    else if ((r = sc_read_full(answer_in, ids, sizeof ids, deadline)) != 1)
        note(notes, sizeof notes, "no answer: %s", r == 0 ? "end of file" : r == -2 ? "none in time" : strerror(errno));
    close(ask_out);
    close(answer_in);
    if (r == 1) {
        pid_t parent = getpid() + (corrupting("longlived") ? 1000 : 0);
        if (ids[0] != longlived)
            note(notes, sizeof notes, "it has pid %d, fork returned %d", (int)ids[0], (int)longlived);
        if (ids[1] != parent)
            note(notes, sizeof notes, "its parent is %d, the parent is %d", (int)ids[1], (int)parent);
    }
    int status = 0;
    int exited = reap_longlived(&status, deadline);
    char how[64];
    sc_describe_status(status, how, sizeof how);
    if (!exited)
        note(notes, sizeof notes, "it did not exit within %d s and was killed", WAIT_SECONDS);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        note(notes, sizeof notes, "it %s", how);
    if (notes[0])
        sc_fail("longlived: the long-lived child (pid %d): %s", (int)longlived, notes);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1], (const char *const[]){ "value", "status", "pid", "longlived", NULL });

    signal(SIGPIPE, SIG_IGN); /* a dead long-lived child is EPIPE */
    int ask[2], answer[2];
    if (pipe(ask) != 0 || pipe(answer) != 0)
        sc_die("pipe");
    pid_t parent = getpid();
    longlived = fork();
    if (longlived < 0)
        sc_die("fork");
    if (longlived == 0) {
        close(ask[1]);
        close(answer[0]);
        longlived_child(parent, ask[0], answer[1]);
    }
    close(ask[0]);
    close(answer[1]);
    ask_out = ask[1];
    answer_in = answer[0];

    sc_tick_until_verify(verify_file, tick);

    char counts[96], how[64];
    snprintf(counts, sizeof counts, "%lu good and %lu bad of %lu children in %lu ticks", (unsigned long)good,
            (unsigned long)bad, (unsigned long)children, (unsigned long)ticks);
    if (bad_values) {
        if (bad_value_error[0])
            sc_fail("value: %lu wrong; the first, at tick %lu: %s where %lu was due (%s)", (unsigned long)bad_values,
                    (unsigned long)bad_value_tick, bad_value_error, (unsigned long)bad_value_due, counts);
        else
            sc_fail("value: %lu wrong; the first, at tick %lu: %lu where %lu was due (%s)", (unsigned long)bad_values,
                    (unsigned long)bad_value_tick, (unsigned long)bad_value_got, (unsigned long)bad_value_due, counts);
    }
    if (bad_statuses) {
        sc_describe_status(bad_status, how, sizeof how);
        sc_fail("status: %lu wrong; the first, at tick %lu, %s where status %d was due (%s)",
                (unsigned long)bad_statuses, (unsigned long)bad_status_tick, how, bad_status_due, counts);
    }
    if (same_pids)
        sc_fail("pid: %lu had the previous child's pid; the first, at tick %lu: %d (%s)", (unsigned long)same_pids,
                (unsigned long)same_pid_tick, (int)same_pid, counts);
    verify_longlived();
    return sc_verdict();
}
