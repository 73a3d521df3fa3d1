/* Threads that come and go: every tick a short-lived thread is made, computes and is joined,
 * while a pool of POOL threads counts under a mutex; a checkpoint finds 1 + POOL or 2 + POOL
 * threads, and a thread id that was in use at one checkpoint may be gone at the next.
 *   join  every joined thread returned what it was asked to compute (made by the main thread
 *         from its argument: tick * tick)
 *   sum   the pool's counts add up to the total they counted under the mutex
 *
 * usage: threadchurn --verify-file PATH [--self-test-corrupt join|sum]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <pthread.h>

#define POOL 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counts[POOL], total;
static volatile int stopping;
static uint64_t joins, wrong_joins;

static void *square(void *arg)
{
    uint64_t n = (uint64_t)(uintptr_t)arg;
    return (void *)(uintptr_t)(n * n);
}

static void *counter(void *arg)
{
    int i = (int)(intptr_t)arg;
    while (!stopping) {
        pthread_mutex_lock(&lock);
        counts[i]++;
        total++;
        pthread_mutex_unlock(&lock);
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "join", "sum", NULL });
    pthread_t pool[POOL];
    for (int i = 0; i < POOL; i++)
        if (pthread_create(&pool[i], NULL, counter, (void *)(intptr_t)i) != 0)
            sc_die("pthread_create");

    sc_say("ready pid=%d", (int)getpid());
    for (uint64_t tick = 1;; tick++) {
        pthread_t t;
        void *result;
        if (pthread_create(&t, NULL, square, (void *)(uintptr_t)tick) != 0 || pthread_join(t, &result) != 0)
            sc_die("pthread_create/join");
        joins++;
        if ((uint64_t)(uintptr_t)result != tick * tick)
            wrong_joins++;
        sc_say("tick %lu", (unsigned long)tick);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    stopping = 1;
    for (int i = 0; i < POOL; i++)
        pthread_join(pool[i], NULL);
    if (corruption && strcmp(corruption, "join") == 0)
        wrong_joins++;
    if (corruption && strcmp(corruption, "sum") == 0)
        counts[0]++;
    if (wrong_joins != 0)
        sc_fail("join: %lu of %lu joined threads returned a wrong result", (unsigned long)wrong_joins,
                (unsigned long)joins);
    uint64_t sum = 0;
    for (int i = 0; i < POOL; i++)
        sum += counts[i];
    if (sum != total)
        sc_fail("sum: the pool counted %lu, its counts add up to %lu", (unsigned long)total, (unsigned long)sum);
    return sc_verdict();
}
