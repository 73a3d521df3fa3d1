/* A process tree: a parent and two children it forks (no exec) passing a token around a ring,
 * the parent to child 1 through a pipe, child 1 to child 2 through a pipe, child 2 back to the
 * parent through a Unix stream socketpair (with --pipes-only, a third pipe). Each process holds
 * only the ends it uses. The children check themselves on every pass and once more when the
 * parent sends the verify token round; the parent checks itself on the verify trigger:
 *   token      the token is a 64-bit counter each process passes on plus one, PASSES_PER_TICK
 *              passes a tick: each process must receive exactly what it sent last plus 2 (the
 *              other two hops), so no token is lost, duplicated or made up; each child passed
 *              it as often as the parent
 *   pid        each process's getpid() is the one it had at its start (a child's, the one fork
 *              returned to the parent)
 *   ppid       each child's getppid() is the parent's pid, as at its start
 *   pdeathsig  each child's parent-death signal is SIGKILL (set right after the fork, then
 *              getppid() checked): a child dies with its parent
 *   log        the parent's logging thread counted every tick, under a mutex
 *   tid        the logging thread's gettid(), checked every tick, and the main thread's are the
 *              ones they started with
 *   ring       at verify time the parent sends the verify token round: child 1 checks itself and
 *              passes it on with its report, child 2 checks itself and passes it on with both
 *              reports; each child then exits, 0 or (on a failure of its own) 1, and the parent
 *              reaps both with waitpid. A ring that breaks, a report that does not come back or
 *              an exit status other than the report's fails ring.
 * The parent prints one FAIL line per piece, naming each process that failed it.
 *
 * usage: tree --verify-file PATH [--pipes-only] [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   token      the parent skips a token (sends the verify token 3 too high)
 *   pid        child 1's recorded pid is altered
 *   ppid       child 2's recorded parent pid is altered
 *   pdeathsig  child 1 clears its parent-death signal
 *   log        the logging thread's count is altered
 *   tid        the logging thread's recorded id is altered
 *   ring       the parent kills child 2 (and reaps it) before sending the verify token */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PASSES_PER_TICK 16
#define WAIT_SECONDS 4
#define VERIFY_BIT (1ULL << 63)
#define NOTE_BYTES 2048

enum { TOKEN, PID, PPID, PDEATHSIG, LOG, TID, RING, PIECES };
static const char *const piece_names[PIECES] = { "token", "pid", "ppid", "pdeathsig", "log", "tid", "ring" };

/* What a child found, sent to the parent through the ring behind the verify token. */
struct report {
    int32_t child;  /* 1 or 2; 0 for a report that never came */
    uint32_t failed; /* a bit per piece */
    int32_t pid, recorded_pid, ppid, recorded_ppid, pdeathsig;
    int32_t bad_pid, bad_ppid; /* the first wrong getpid() / getppid() seen */
    uint64_t bad_pid_pass, bad_ppid_pass;
    uint64_t passes; /* tokens received before the verify token */
    uint64_t bad_tokens, bad_token_pass, bad_token_got, bad_token_due;
};

static const char *corruption;
static pid_t parent_pid, main_tid, kids[3];

/* The parent's ring: it writes to ring_out and reads from ring_in. */
static int ring_out = -1, ring_in = -1, broken;
static uint64_t next_token, passes, bad_tokens, bad_token_pass, bad_token_got, bad_token_due;
static char notes[PIECES][NOTE_BYTES];

/* The logging thread's state, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static uint64_t granted, logged, log_sum, bad_logger_tick;
static pid_t logger_tid, bad_logger_tid;
static int verifying, logger_checked;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

static pid_t tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static int64_t deadline_in(int seconds)
{
    return sc_now_nanos() + (int64_t)seconds * 1000000000;
}

/* Appends to what the FAIL line of `piece` will say. */
static void note(int piece, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(int piece, const char *fmt, ...)
{
    size_t used = strlen(notes[piece]);
    if (used > 0 && used + 2 < NOTE_BYTES) {
        strcpy(notes[piece] + used, "; ");
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes[piece] + used, NOTE_BYTES - used, fmt, ap);
    va_end(ap);
}

static const char *read_error(int r)
{
    return r == 0 ? "end of file" : r == -2 ? "no answer in time" : strerror(errno);
}

/* ---- a child ---- */

static void check_ids(struct report *r, pid_t pid, pid_t ppid, uint64_t pass)
{
    pid_t now = getpid(), parent = getppid();
    if (now != pid && !(r->failed & (1u << PID))) {
        r->failed |= 1u << PID;
        r->bad_pid = now;
        r->bad_pid_pass = pass;
    }
    if (parent != ppid && !(r->failed & (1u << PPID))) {
        r->failed |= 1u << PPID;
        r->bad_ppid = parent;
        r->bad_ppid_pass = pass;
    }
}

/* Child `index` (1 or 2): reads the token from `in`, passes it on plus one to `out`; exits 3
 * when the ring breaks, else after the verify token, 0 or 1. */
static void child(int index, int in, int out)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent_pid)
        _exit(3); /* the parent died before the prctl: nothing would kill this child */
    pid_t pid = getpid(), ppid = getppid();
    struct report r = { .child = index };
    uint64_t due = (uint64_t)index - 1; /* the parent sends 0 first, child 1 passes on 1 */
    for (;;) {
        uint64_t token;
        if (sc_read_full(in, &token, sizeof token, 0) != 1)
            _exit(3);
        int verify = (token & VERIFY_BIT) != 0;
        token &= ~VERIFY_BIT;
        if (!verify)
            r.passes++;
        if (token != due && r.bad_tokens++ == 0) {
            r.failed |= 1u << TOKEN;
            r.bad_token_pass = r.passes + (uint64_t)verify;
            r.bad_token_got = token;
            r.bad_token_due = due;
        }
        if (verify && index == 1 && corrupting("pid"))
            pid += 1000;
        if (verify && index == 2 && corrupting("ppid"))
            ppid += 1000;
        check_ids(&r, pid, ppid, r.passes + (uint64_t)verify);
        if (!verify) {
            uint64_t next = token + 1;
            if (!sc_write_full(out, &next, sizeof next))
                _exit(3);
            due = next + 2;
            continue;
        }

        if (index == 1 && corrupting("pdeathsig"))
            prctl(PR_SET_PDEATHSIG, 0);
        int deathsig = -1;
        prctl(PR_GET_PDEATHSIG, &deathsig);
        if (deathsig != SIGKILL)
            r.failed |= 1u << PDEATHSIG;
        r.pid = getpid();
        r.recorded_pid = pid;
        r.ppid = getppid();
        r.recorded_ppid = ppid;
        r.pdeathsig = deathsig;

        struct {
            uint64_t token;
            struct report reports[2];
        } message = { .token = (token + 1) | VERIFY_BIT };
        if (index == 2) {
            /* child 1's report follows the token; one that never comes is sent on as missing */
            if (sc_read_full(in, &message.reports[0], sizeof message.reports[0], deadline_in(WAIT_SECONDS)) != 1)
                memset(&message.reports[0], 0, sizeof message.reports[0]);
        }
        message.reports[index - 1] = r;
        if (!sc_write_full(out, &message, sizeof message.token + (size_t)index * sizeof r))
            _exit(3);
        _exit(r.failed ? 1 : 0);
    }
}

/* ---- the parent ---- */

static void break_ring(const char *how)
{
    note(RING, "the ring broke at pass %lu: %s", (unsigned long)(passes + 1), how);
    broken = 1;
    /* The children read end of file and exit. */
    close(ring_out);
    close(ring_in);
}

static void pass(void)
{
    uint64_t sent = next_token, got;
    if (!sc_write_full(ring_out, &sent, sizeof sent)) {
        break_ring(strerror(errno));
        return;
    }
    int r = sc_read_full(ring_in, &got, sizeof got, 0);
    if (r != 1) {
        break_ring(read_error(r));
        return;
    }
    passes++;
    if (got != sent + 2 && bad_tokens++ == 0) {
        bad_token_pass = passes;
        bad_token_got = got;
        bad_token_due = sent + 2;
    }
    next_token = got + 1;
}

static void *logger(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&lock);
    logger_tid = tid();
    for (;;) {
        while (!verifying && logged >= granted)
            pthread_cond_wait(&changed, &lock);
        if (logged < granted) {
            logged++;
            log_sum += logged;
            if (tid() != logger_tid && bad_logger_tid == 0) {
                bad_logger_tid = tid();
                bad_logger_tick = logged;
            }
            continue;
        }
        break; /* verifying, every tick logged */
    }
    if (tid() != logger_tid && bad_logger_tid == 0) {
        bad_logger_tid = tid();
        bad_logger_tick = logged;
    }
    logger_checked = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void tick(uint64_t t)
{
    for (int i = 0; i < PASSES_PER_TICK && !broken; i++)
        pass();
    pthread_mutex_lock(&lock);
    granted = t;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Waits for child i until the deadline, then kills it; 1 with its status, 0 if it had to be killed. */
static int reap(int i, int *status, int64_t deadline)
{
    for (;;) {
        pid_t r = waitpid(kids[i], status, WNOHANG);
        if (r == kids[i])
            return 1;
        if (r < 0)
            sc_die("waitpid");
        if (sc_now_nanos() > deadline) {
            kill(kids[i], SIGKILL);
            if (waitpid(kids[i], status, 0) != kids[i])
                sc_die("waitpid");
            return 0;
        }
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
}

static void examine(int i, const struct report *r, int status, int exited)
{
    char how[64];
    sc_describe_status(status, how, sizeof how);
    if (!exited)
        note(RING, "child %d did not exit within %d s of the verify token", i, WAIT_SECONDS);
    if (r->child != i) {
        note(RING, "child %d sent no report and %s", i, how);
        return;
    }
    if (exited && (!WIFEXITED(status) || WEXITSTATUS(status) != (r->failed ? 1 : 0)))
        note(RING, "child %d %s after reporting %s", i, how, r->failed ? "failures" : "none");
    if (r->failed & (1u << TOKEN))
        note(TOKEN, "child %d got %lu where %lu was due at pass %lu (%lu wrong in all)", i,
                (unsigned long)r->bad_token_got, (unsigned long)r->bad_token_due, (unsigned long)r->bad_token_pass,
                (unsigned long)r->bad_tokens);
    if (r->passes != passes)
        note(TOKEN, "child %d passed the token on %lu times, the parent %lu", i, (unsigned long)r->passes,
                (unsigned long)passes);
    if (r->failed & (1u << PID))
        note(PID, "child %d had pid %d at pass %lu, %d at its start", i, (int)r->bad_pid,
                (unsigned long)r->bad_pid_pass, (int)r->recorded_pid);
    if (r->pid != kids[i])
        note(PID, "child %d has pid %d, fork returned %d", i, (int)r->pid, (int)kids[i]);
    if (r->failed & (1u << PPID))
        note(PPID, "child %d's parent was %d at pass %lu, %d at its start", i, (int)r->bad_ppid,
                (unsigned long)r->bad_ppid_pass, (int)r->recorded_ppid);
    if (r->ppid != getpid())
        note(PPID, "child %d has parent %d, the parent is %d", i, (int)r->ppid, (int)getpid());
    if (r->failed & (1u << PDEATHSIG))
        note(PDEATHSIG, "child %d's parent-death signal is %d, not SIGKILL", i, (int)r->pdeathsig);
}

static void verify_ring(void)
{
    struct report reports[2];
    memset(reports, 0, sizeof reports);
    int status[3] = { 0, 0, 0 }, exited[3] = { 0, 0, 0 }, reaped[3] = { 0, 0, 0 };
    if (corrupting("ring")) {
        kill(kids[2], SIGKILL);
        if (waitpid(kids[2], &status[2], 0) != kids[2])
            sc_die("waitpid");
        exited[2] = reaped[2] = 1;
    }
    int64_t deadline = deadline_in(WAIT_SECONDS);
    if (!broken) {
        uint64_t sent = next_token + (corrupting("token") ? 3 : 0), token = sent | VERIFY_BIT;
        int r;
        if (!sc_write_full(ring_out, &token, sizeof token))
            note(RING, "the verify token could not be sent: %s", strerror(errno));
        else if ((r = sc_read_full(ring_in, &token, sizeof token, deadline)) != 1)
            note(RING, "the verify token did not come back: %s", read_error(r));
        else {
            if (token != ((sent + 2) | VERIFY_BIT) && bad_tokens++ == 0) {
                bad_token_pass = passes + 1;
                bad_token_got = token & ~VERIFY_BIT;
                bad_token_due = sent + 2;
            }
            if ((r = sc_read_full(ring_in, reports, sizeof reports, deadline)) != 1)
                note(RING, "the children's reports did not come back: %s", read_error(r));
        }
        close(ring_out);
        close(ring_in);
    }
    for (int i = 1; i <= 2; i++) {
        if (!reaped[i])
            exited[i] = reap(i, &status[i], deadline);
        examine(i, &reports[i - 1], status[i], exited[i]);
    }
}

static void verify_logger(pthread_t thread)
{
    pthread_mutex_lock(&lock);
    if (corrupting("tid"))
        logger_tid += 1000;
    verifying = 1;
    pthread_cond_broadcast(&changed);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    while (!logger_checked && pthread_cond_timedwait(&changed, &lock, &deadline) == 0) {
    }
    int checked = logger_checked;
    if (corrupting("log"))
        logged++;
    if (!checked)
        note(LOG, "the logging thread did not finish within %d s", WAIT_SECONDS);
    else if (logged != granted || log_sum != granted * (granted + 1) / 2)
        note(LOG, "the logging thread logged %lu ticks (sum %lu), %lu were made (sum %lu)", (unsigned long)logged,
                (unsigned long)log_sum, (unsigned long)granted, (unsigned long)(granted * (granted + 1) / 2));
    if (bad_logger_tid != 0)
        note(TID, "the logging thread had id %d at tick %lu, %d at its start", (int)bad_logger_tid,
                (unsigned long)bad_logger_tick, (int)logger_tid);
    pthread_mutex_unlock(&lock);
    if (checked && pthread_join(thread, NULL) != 0)
        sc_die("pthread_join");
}

static pid_t spawn(int index, int in, int out, const int *unused, size_t count)
{
    pid_t pid = fork();
    if (pid < 0)
        sc_die("fork");
    if (pid == 0) {
        for (size_t i = 0; i < count; i++)
            close(unused[i]);
        child(index, in, out);
    }
    return pid;
}

int main(int argc, char **argv)
{
    /* --pipes-only takes no value: taken out before the options that do */
    int pipes_only = 0, kept = 1;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--pipes-only") == 0)
            pipes_only = 1;
        else
            argv[kept++] = argv[a];
    }
    argc = kept;
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1],
            (const char *const[]){ "token", "pid", "ppid", "pdeathsig", "log", "tid", "ring", NULL });

    signal(SIGPIPE, SIG_IGN); /* a dead reader is EPIPE, in the children too */
    parent_pid = getpid();
    main_tid = tid();
    int down[2], across[2], back[2]; /* parent -> child 1 -> child 2 -> parent */
    if (pipe(down) != 0 || pipe(across) != 0)
        sc_die("pipe");
    if (pipes_only ? pipe(back) != 0 : socketpair(AF_UNIX, SOCK_STREAM, 0, back) != 0)
        sc_die(pipes_only ? "pipe" : "socketpair");
    /* child 2 writes back[1]; the parent reads back[0] (either end would do for a socketpair) */
    kids[1] = spawn(1, down[0], across[1], (const int[]){ down[1], across[0], back[0], back[1] }, 4);
    kids[2] = spawn(2, across[0], back[1], (const int[]){ down[0], down[1], across[1], back[0] }, 4);
    close(down[0]);
    close(across[0]);
    close(across[1]);
    close(back[1]);
    ring_out = down[1];
    ring_in = back[0];

    pthread_t thread; /* after the forks: a child is one thread */
    if (pthread_create(&thread, NULL, logger, NULL) != 0)
        sc_die("pthread_create");

    sc_tick_until_verify(verify_file, tick);
    verify_ring();
    verify_logger(thread);
    if (getpid() != parent_pid)
        note(PID, "the parent has pid %d, %d at its start", (int)getpid(), (int)parent_pid);
    if (tid() != main_tid)
        note(TID, "the main thread has id %d, %d at its start", (int)tid(), (int)main_tid);
    if (bad_tokens)
        note(TOKEN, "the parent got %lu where %lu was due at pass %lu (%lu wrong in all)",
                (unsigned long)bad_token_got, (unsigned long)bad_token_due, (unsigned long)bad_token_pass,
                (unsigned long)bad_tokens);
    for (int p = 0; p < PIECES; p++)
        if (notes[p][0])
            sc_fail("%s: %s", piece_names[p], notes[p]);
    return sc_verdict();
}
