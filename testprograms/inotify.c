/* An inotify instance with watches, on a directory made next to the verify file (PATH.watched,
 * made anew at start) and a file in it. At start: a watch on the directory for IN_CREATE and
 * IN_DELETE (wd 1), one on a file "a" in it that is then removed again (wd 2, given back), one
 * on the file "b" for IN_MODIFY only (wd 3: a watch descriptor is not handed out twice in a row);
 * the instance is non-blocking and close-on-exec. Every tick the program creates and removes a
 * file in the directory and reads the two events, each of which must name the directory's watch.
 * Pieces checked on the verify trigger (events are made anew after it: those queued at a
 * checkpoint are not kept):
 *   wd      a file made and removed in the directory gives IN_CREATE then IN_DELETE, with its
 *           name, on the directory's wd; a write to "b" gives IN_MODIFY on b's wd (3)
 *   mask    opening and closing "b" without writing gives no event (its watch asks IN_MODIFY only)
 *   stray   no event names a watch descriptor the program did not get (wd 2 was given back)
 *   flags   the instance is O_NONBLOCK and close-on-exec
 *
 * usage: inotify --verify-file PATH [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   wd      the file's expected wd is altered
 *   mask    "b" is written to where it should only be opened and closed
 *   stray   a write to "b" is expected on wd 2, the one given back
 *   flags   the instance is expected blocking */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#define WAIT_SECONDS 4

static const char *corruption;
static char dir[4000], file_a[4096], file_b[4096];
static int in;
static int wd_dir, wd_b;
static uint64_t bad_events;
static char bad[256];

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

struct seen {
    int wd;
    uint32_t mask;
    char name[64];
};

/* Reads the events there are, up to max, waiting up to WAIT_SECONDS for the first `want`. */
static int events(struct seen *out, int max, int want)
{
    char buf[4096] __attribute__((aligned(8)));
    int n = 0;
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    for (;;) {
        ssize_t got = read(in, buf, sizeof buf);
        if (got > 0) {
            for (char *p = buf; p < buf + got;) {
                struct inotify_event *e = (struct inotify_event *)p;
                if (n < max) {
                    out[n].wd = e->wd;
                    out[n].mask = e->mask;
                    snprintf(out[n].name, sizeof out[n].name, "%s", e->len ? e->name : "");
                    n++;
                }
                p += sizeof *e + e->len;
            }
            continue;
        }
        if (n >= want || sc_now_nanos() > deadline)
            return n;
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
}

static void touch_and_remove(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    if (fd < 0 || close(fd) != 0 || unlink(path) != 0)
        sc_die("create and remove");
}

static void start(const char *verify_file)
{
    snprintf(dir, sizeof dir, "%s.watched", verify_file);
    snprintf(file_a, sizeof file_a, "%s/a", dir);
    snprintf(file_b, sizeof file_b, "%s/b", dir);
    unlink(file_a);
    unlink(file_b);
    rmdir(dir);
    if (mkdir(dir, 0700) != 0)
        sc_die("mkdir");
    int fd_a = open(file_a, O_CREAT | O_WRONLY, 0600), fd_b = open(file_b, O_CREAT | O_WRONLY, 0600);
    if (fd_a < 0 || fd_b < 0)
        sc_die("open");
    close(fd_a);
    close(fd_b);
    in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in < 0)
        sc_die("inotify_init1");
    wd_dir = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
    int wd_a = inotify_add_watch(in, file_a, IN_MODIFY);
    if (wd_dir < 0 || wd_a < 0 || inotify_rm_watch(in, wd_a) != 0)
        sc_die("inotify_add_watch");
    wd_b = inotify_add_watch(in, file_b, IN_MODIFY);
    if (wd_b < 0)
        sc_die("inotify_add_watch");
    struct seen drop[8];
    events(drop, 8, 0); /* the IN_IGNORED of a */
}

static void note_bad(const struct seen *e, const char *why)
{
    if (bad_events++ == 0)
        snprintf(bad, sizeof bad, "wd %d mask 0x%x name \"%s\": %s", e->wd, e->mask, e->name, why);
}

static void tick(uint64_t t)
{
    char name[32];
    snprintf(name, sizeof name, "t%lu", (unsigned long)t);
    touch_and_remove(name);
    struct seen e[8];
    int n = events(e, 8, 2);
    for (int i = 0; i < n; i++)
        if (e[i].wd != wd_dir)
            note_bad(&e[i], "not the directory's watch");
}

static void verify(void)
{
    int expected_b = corrupting("wd") ? wd_b + 1 : wd_b;
    if (corrupting("stray"))
        expected_b = 2;
    if (bad_events)
        sc_fail("stray: %lu events between ticks were not the directory's; the first: %s", (unsigned long)bad_events,
                bad);
    struct seen drop[64];
    events(drop, 64, 0); /* anything queued before verify: not kept across a restore */

    touch_and_remove("v");
    struct seen e[8];
    int n = events(e, 8, 2);
    if (n < 2 || e[0].wd != wd_dir || !(e[0].mask & IN_CREATE) || strcmp(e[0].name, "v") != 0
        || e[1].wd != wd_dir || !(e[1].mask & IN_DELETE))
        sc_fail("wd: a file made and removed in the directory gave %d events (first: wd %d mask 0x%x \"%s\"),"
                " expected IN_CREATE and IN_DELETE of \"v\" on wd %d", n, n ? e[0].wd : -1, n ? e[0].mask : 0,
                n ? e[0].name : "", wd_dir);

    int fd = open(file_b, O_WRONLY);
    if (fd < 0)
        sc_die("open b");
    if (corrupting("mask") && write(fd, "x", 1) != 1)
        sc_die("write b");
    close(fd);
    struct timespec settle = { 0, 50000000 };
    nanosleep(&settle, NULL);
    n = events(e, 8, 0);
    if (n > 0)
        sc_fail("mask: opening and closing b gave %d events (first: wd %d mask 0x%x), expected none", n, e[0].wd,
                e[0].mask);

    fd = open(file_b, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, "y", 1) != 1)
        sc_die("write b");
    close(fd);
    n = events(e, 8, 1);
    if (n < 1 || e[0].wd != expected_b || !(e[0].mask & IN_MODIFY))
        sc_fail("%s: a write to b gave %d events (first: wd %d mask 0x%x), expected IN_MODIFY on wd %d",
                corrupting("stray") ? "stray" : "wd", n, n ? e[0].wd : -1, n ? e[0].mask : 0, expected_b);

    int nonblocking = sc_has(in, F_GETFL, O_NONBLOCK);
    if (nonblocking == corrupting("flags") || !sc_has(in, F_GETFD, FD_CLOEXEC))
        sc_fail("flags: the inotify instance is %sO_NONBLOCK and %sclose-on-exec", nonblocking ? "" : "not ",
                sc_has(in, F_GETFD, FD_CLOEXEC) ? "" : "not ");
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1], (const char *const[]){ "wd", "mask", "stray", "flags", NULL });

    start(verify_file);
    sc_tick_until_verify(verify_file, tick);
    verify();
    return sc_verdict();
}
