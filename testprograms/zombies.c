/* Children that ended and are not waited for (zombies): at its start the parent forks three
 * children one after the other, each ending at once: the first exits with status 7, the second
 * is killed by SIGTERM, the third makes a process group of its own and exits 0. The parent counts
 * SIGCHLD in a handler and waits for each child's signal before forking the next (so the count
 * is exactly 3), and never reaps them until the verify trigger. Every tick it checks, with
 * waitid(WNOWAIT), that each is still there to be waited for. Pieces:
 *   status   at verify, waitpid of each child's pid reaps it with the status it ended with
 *   pid      every tick and at verify, each child is a zombie the parent can wait for, under the
 *            pid fork returned
 *   group    the third child's process group (getpgid of the zombie) is its own pid
 *   sigchld  the handler ran exactly 3 times: no child's end was signalled twice
 *
 * usage: zombies --verify-file PATH [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   status   the first child's expected status is altered
 *   pid      the second child's recorded pid is altered
 *   group    the third child's expected group is altered
 *   sigchld  the handler's count is altered */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <stdatomic.h>
#include <sys/wait.h>

#define CHILDREN 3
#define WAIT_SECONDS 4

static const char *corruption;
static pid_t kids[CHILDREN];
static int expected_status[CHILDREN];
static pid_t expected_group;
static volatile sig_atomic_t sigchlds;
static uint64_t missing, missing_tick;
static int missing_child;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

static void on_sigchld(int sig)
{
    (void)sig;
    sigchlds++;
}

/* Whether child i is a zombie its parent can wait for (without reaping it). */
static int waitable(int i)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)kids[i], &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return 0;
    return info.si_pid == kids[i];
}

static void start_children(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGCHLD, &sa, NULL) != 0)
        sc_die("sigaction");
    for (int i = 0; i < CHILDREN; i++) {
        sig_atomic_t before = sigchlds;
        pid_t pid = fork();
        if (pid < 0)
            sc_die("fork");
        if (pid == 0) {
            if (i == 0)
                _exit(7);
            if (i == 1) {
                signal(SIGTERM, SIG_DFL);
                raise(SIGTERM);
                _exit(99);
            }
            if (setpgid(0, 0) != 0)
                _exit(98);
            _exit(0);
        }
        kids[i] = pid;
        int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
        while (sigchlds == before || !waitable(i)) {
            if (sc_now_nanos() > deadline) {
                fprintf(stderr, "child %d (pid %d) did not end within %d s\n", i, (int)pid, WAIT_SECONDS);
                exit(2);
            }
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
    }
    expected_status[0] = 7 << 8;
    expected_status[1] = SIGTERM;
    expected_status[2] = 0;
    expected_group = kids[2];
}

static void tick(uint64_t t)
{
    for (int i = 0; i < CHILDREN; i++) {
        if (!waitable(i) && missing++ == 0) {
            missing_tick = t;
            missing_child = i;
        }
    }
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1], (const char *const[]){ "status", "pid", "group", "sigchld", NULL });

    start_children();
    sc_tick_until_verify(verify_file, tick);

    if (corrupting("status"))
        expected_status[0] = 8 << 8;
    if (corrupting("pid"))
        kids[1] += 1000;
    if (corrupting("group"))
        expected_group += 1000;
    if (corrupting("sigchld"))
        sigchlds++;

    if (missing)
        sc_fail("pid: %lu checks found a child not there to be waited for; the first, at tick %lu: child %d (pid %d)",
                (unsigned long)missing, (unsigned long)missing_tick, missing_child, (int)kids[missing_child]);
    pid_t group = getpgid(kids[2]);
    if (group != expected_group)
        sc_fail("group: the third child (pid %d) is in process group %d, not %d", (int)kids[2], (int)group,
                (int)expected_group);
    for (int i = 0; i < CHILDREN; i++) {
        int status = 0;
        pid_t r = waitpid(kids[i], &status, WNOHANG);
        char how[64], due[64];
        sc_describe_status(status, how, sizeof how);
        sc_describe_status(expected_status[i], due, sizeof due);
        if (r != kids[i])
            sc_fail("pid: waitpid(%d) of child %d returned %d (%s)", (int)kids[i], i, (int)r,
                    r < 0 ? strerror(errno) : "not ended");
        else if (status != expected_status[i])
            sc_fail("status: child %d (pid %d) %s, not %s", i, (int)kids[i], how, due);
    }
    if (sigchlds != CHILDREN)
        sc_fail("sigchld: the handler ran %d times for %d children", (int)sigchlds, CHILDREN);
    return sc_verdict();
}
