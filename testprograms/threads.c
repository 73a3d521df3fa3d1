/* Threads that share state under a mutex and condition variables, and threads blocked in the
 * kernel, each checking its own state on the verify trigger:
 *   order     the workers pass a token in turn (worker i after worker i-1), as many passes per
 *             tick as the main thread grants; the last HISTORY passes must be in turn order
 *   sum       each worker counts its passes: the counts must add up to the passes made
 *   tid       each thread's gettid() must be the id it had at its start
 *   name      each worker's name (pthread_setname_np), read back with prctl(PR_GET_NAME)
 *   sigmask   each worker blocks a signal of its own (SIGRTMIN + i % 16)
 *   tls       each worker's __thread variable holds its own pattern
 *   robust    each worker's robust futex list head (get_robust_list) is the one glibc set
 *   altstack  worker 0 runs with a sigaltstack in its own buffer
 *   join      a thread that exits at verify time is joined (glibc waits for the kernel to
 *             clear its tid: its clear-child-tid address)
 *   sleep     a thread asleep in nanosleep for 1000 s is woken by a signal at verify time and
 *             returns EINTR with time left
 *   wait      a thread in pthread_cond_timedwait with a 1000 s deadline is signalled and
 *             returns 0
 *   read      a thread blocked in read() of an eventfd gets the value written at verify time
 *
 * usage: threads --verify-file PATH [--threads N] [--self-test-corrupt KIND]
 * (N workers, 8 by default, at most 64, plus the main thread and four others; --self-test-corrupt
 * breaks one piece just before verifying, to prove its check can fail). */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define MAX_WORKERS 64
#define HISTORY 256
#define PASSES_PER_TICK 64
#define ALTSTACK_SIZE 65536
#define WAIT_SECONDS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static pthread_cond_t waiter_cv = PTHREAD_COND_INITIALIZER;
static int workers = 8;
static const char *corruption;
static uint64_t passes, granted;
static uint64_t counts[MAX_WORKERS];
static int history[HISTORY];
static int verifying, checked, waiter_woken, waiter_result = -1;
static int reader_fd;
static __thread uint64_t own_pattern;
static char altstack_buffer[ALTSTACK_SIZE];

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

static pid_t tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static void timed_out_at(struct timespec *deadline, int seconds)
{
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += seconds;
}

/* What each thread checks of itself; `i` is a worker's number, -1 for the others. */
static void check_self(const char *who, int i, pid_t start_tid)
{
    if (tid() != start_tid || (corrupting("tid") && i == 1))
        sc_fail("tid: %s has id %d, started as %d", who, (int)tid(), (int)start_tid);
    if (i < 0)
        return;
    char name[16] = "", expected[16];
    snprintf(expected, sizeof expected, "worker-%d", (unsigned char)i);
    if (corrupting("name") && i == 1)
        prctl(PR_SET_NAME, "renamed");
    prctl(PR_GET_NAME, name);
    if (strcmp(name, expected) != 0)
        sc_fail("name: %s is called '%s'", who, name);
    sigset_t mask;
    int own = SIGRTMIN + i % 16;
    if (corrupting("sigmask") && i == 1) {
        sigemptyset(&mask);
        pthread_sigmask(SIG_SETMASK, &mask, NULL);
    }
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    if (!sigismember(&mask, own) || sigismember(&mask, SIGRTMIN + (i + 1) % 16))
        sc_fail("sigmask: %s does not block signal %d alone of the real-time ones", who, own);
    if (corrupting("tls") && i == 1)
        own_pattern ^= 1;
    if (own_pattern != sc_pattern((uint64_t)i, 7))
        sc_fail("tls: %s's thread-local word is %016lx", who, (unsigned long)own_pattern);
}

static void check_robust(const char *who, int i, struct robust_list_head *registered)
{
    static struct robust_list_head other = { { &other.list }, 0, NULL };
    int corrupt = corrupting("robust") && i == 1;
    if (corrupt)
        syscall(SYS_set_robust_list, &other, sizeof other);
    struct robust_list_head *head = NULL;
    size_t length = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &length) != 0)
        sc_die("get_robust_list");
    if (head != registered || length != sizeof(struct robust_list_head))
        sc_fail("robust: %s's robust list is %p (%zu bytes), glibc registered %p", who, (void *)head, length,
                (void *)registered);
    if (corrupt)
        syscall(SYS_set_robust_list, registered, sizeof *registered);
}

static void check_altstack(void)
{
    stack_t now;
    if (corrupting("altstack")) {
        stack_t smaller = { .ss_sp = altstack_buffer, .ss_size = ALTSTACK_SIZE / 2, .ss_flags = 0 };
        sigaltstack(&smaller, NULL);
    }
    sigaltstack(NULL, &now);
    if (now.ss_sp != altstack_buffer || now.ss_size != ALTSTACK_SIZE || now.ss_flags != 0)
        sc_fail("altstack: worker 0's alternate stack is %p, %zu bytes, flags %d", now.ss_sp, now.ss_size, now.ss_flags);
}

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    pid_t start_tid = tid();
    char name[16], who[32];
    snprintf(name, sizeof name, "worker-%d", (unsigned char)i);
    snprintf(who, sizeof who, "worker %d", i);
    pthread_setname_np(pthread_self(), name);
    sigset_t own;
    sigemptyset(&own);
    sigaddset(&own, SIGRTMIN + i % 16);
    pthread_sigmask(SIG_BLOCK, &own, NULL);
    own_pattern = sc_pattern((uint64_t)i, 7);
    struct robust_list_head *registered;
    size_t length;
    if (syscall(SYS_get_robust_list, 0, &registered, &length) != 0)
        sc_die("get_robust_list");
    if (i == 0) {
        stack_t ss = { .ss_sp = altstack_buffer, .ss_size = ALTSTACK_SIZE, .ss_flags = 0 };
        if (sigaltstack(&ss, NULL) != 0)
            sc_die("sigaltstack");
    }
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!verifying && (passes >= granted || passes % (uint64_t)workers != (uint64_t)i))
            pthread_cond_wait(&changed, &lock);
        if (verifying)
            break;
        history[passes % HISTORY] = i;
        counts[i]++;
        passes++;
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
    check_self(who, i, start_tid);
    check_robust(who, i, registered);
    if (i == 0)
        check_altstack();
    pthread_mutex_lock(&lock);
    checked++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void on_usr1(int signal)
{
    (void)signal;
}

static void *sleeper(void *unused)
{
    (void)unused;
    pid_t start_tid = tid();
    struct timespec nap = { 1000, 0 }, left = { 0, 0 };
    int r = nanosleep(&nap, &left);
    if (r != -1 || errno != EINTR || left.tv_sec <= 0 || left.tv_sec >= 1000)
        sc_fail("sleep: nanosleep(1000 s) returned %d (errno %d) with %ld s left", r, errno, (long)left.tv_sec);
    check_self("the sleeper", -1, start_tid);
    return NULL;
}

static void *waiter(void *unused)
{
    (void)unused;
    pid_t start_tid = tid();
    struct timespec deadline;
    timed_out_at(&deadline, 1000);
    pthread_mutex_lock(&lock);
    int r = 0;
    while (!waiter_woken && r == 0)
        r = pthread_cond_timedwait(&waiter_cv, &lock, &deadline);
    waiter_result = r;
    pthread_mutex_unlock(&lock);
    check_self("the waiter", -1, start_tid);
    return NULL;
}

static void *reader(void *unused)
{
    (void)unused;
    pid_t start_tid = tid();
    uint64_t value = 0;
    if (read(reader_fd, &value, sizeof value) != sizeof value || value != 4242)
        sc_fail("read: the blocked reader got %lu, expected 4242", (unsigned long)value);
    check_self("the reader", -1, start_tid);
    return NULL;
}

static void *joined(void *unused)
{
    (void)unused;
    pid_t start_tid = tid();
    pthread_mutex_lock(&lock);
    while (!verifying)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    check_self("the joined thread", -1, start_tid);
    if (corrupting("join"))
        syscall(SYS_set_tid_address, NULL); /* the kernel no longer clears the id pthread_join waits on */
    return (void *)(intptr_t)77;
}

static pthread_t start(void *(*body)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, body, arg) != 0)
        sc_die("pthread_create");
    return t;
}

/* Joins `who`, failing `piece` if it does not end within WAIT_SECONDS. */
static void join(pthread_t t, const char *piece, const char *who)
{
    struct timespec deadline;
    timed_out_at(&deadline, WAIT_SECONDS);
    void *result;
    int r = pthread_timedjoin_np(t, &result, &deadline);
    if (r != 0)
        sc_fail("%s: %s was not joined within %d s (%s)", piece, who, WAIT_SECONDS, strerror(r));
}

static void verify_order_and_sum(void)
{
    if (corrupting("order"))
        history[(passes - 1) % HISTORY] = (history[(passes - 1) % HISTORY] + 1) % workers;
    if (corrupting("sum"))
        counts[0]++;
    uint64_t first = passes > HISTORY ? passes - HISTORY : 0;
    for (uint64_t k = first; k < passes; k++) {
        if (history[k % HISTORY] != (int)(k % (uint64_t)workers)) {
            sc_fail("order: pass %lu was made by worker %d, not %lu", (unsigned long)k, history[k % HISTORY],
                    (unsigned long)(k % (uint64_t)workers));
            break;
        }
    }
    uint64_t sum = 0;
    for (int i = 0; i < workers; i++)
        sum += counts[i];
    if (sum != passes)
        sc_fail("sum: the workers counted %lu passes, %lu were made", (unsigned long)sum, (unsigned long)passes);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--threads", "--self-test-corrupt", NULL };
    const char *values[3] = { NULL, NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[2], names[2], (const char *const[]){ "order", "sum", "tid", "name", "sigmask", "tls",
            "robust", "altstack", "join", "sleep", "wait", "read", NULL });
    if (values[1]) {
        workers = atoi(values[1]);
        if (workers < 1 || workers > MAX_WORKERS) {
            fprintf(stderr, "--threads takes 1 to %d, not %s\n", MAX_WORKERS, values[1]);
            return 2;
        }
    }
    struct sigaction usr1 = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &usr1, NULL);
    reader_fd = eventfd(0, 0);
    if (reader_fd < 0)
        sc_die("eventfd");
    pid_t start_tid = tid();
    pthread_t pool[MAX_WORKERS];
    for (int i = 0; i < workers; i++)
        pool[i] = start(worker, (void *)(intptr_t)i);
    pthread_t sleeping = start(sleeper, NULL), waiting = start(waiter, NULL), reading = start(reader, NULL),
              ending = start(joined, NULL);

    sc_say("ready pid=%d", (int)getpid());
    for (uint64_t tick = 1;; tick++) {
        pthread_mutex_lock(&lock);
        granted += PASSES_PER_TICK;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
        sc_say("tick %lu", (unsigned long)tick);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    pthread_mutex_lock(&lock);
    verifying = 1;
    pthread_cond_broadcast(&changed);
    struct timespec deadline;
    timed_out_at(&deadline, WAIT_SECONDS);
    while (checked < workers && pthread_cond_timedwait(&changed, &lock, &deadline) == 0) {
    }
    if (checked < workers)
        sc_fail("workers: %d of %d checked themselves within %d s", checked, workers, WAIT_SECONDS);
    verify_order_and_sum();
    if (!corrupting("wait")) {
        waiter_woken = 1;
        pthread_cond_signal(&waiter_cv);
    }
    pthread_mutex_unlock(&lock);
    if (!corrupting("sleep"))
        pthread_kill(sleeping, SIGUSR1);
    uint64_t value = corrupting("read") ? 4241 : 4242;
    if (write(reader_fd, &value, sizeof value) != sizeof value)
        sc_die("write(eventfd)");
    check_self("the main thread", -1, start_tid);
    for (int i = 0; i < workers; i++)
        join(pool[i], "workers", "a worker");
    join(ending, "join", "the thread ending at verify time");
    join(sleeping, "sleep", "the sleeper");
    join(waiting, "wait", "the waiter");
    join(reading, "read", "the reader");
    if (waiter_result != 0 && !corrupting("wait"))
        sc_fail("wait: pthread_cond_timedwait returned %d, expected 0", waiter_result);
    return sc_verdict();
}
