/* A throughput program for checkpoint benchmarks: a heap of --heap-mib MiB, all touched once,
 * then for --seconds seconds writes one word per page, mostly (--hot-percent) to a hot set of
 * --hot-mib MiB and otherwise anywhere. It measures itself: writes per second, and the longest
 * stall, the longest time between two consecutive writes (a checkpoint's freeze shows there).
 *
 * usage: hotset [--heap-mib 256] [--hot-mib 8] [--hot-percent 95] [--seconds 5] [--thp 0|1] [--threads 1]
 *               [--processes 1]
 * --thp 1 backs the heap with transparent huge pages (madvise(MADV_HUGEPAGE) on a 2 MiB-aligned
 * heap), as the kernel's "madvise" THP mode allows. --threads N adds N-1 threads that wait on a
 * condition variable for ever: what a checkpoint's freeze costs per thread. --processes N adds
 * N-1 child processes that let go of the heap and wait for ever (they die with it): what a
 * checkpoint's freeze costs per process.
 * prints: "ready pid=N", then at the end "writes=W per_second=R max_stall_us=S" and exits 0. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

static long option(int argc, char **argv, const char *name, long fallback)
{
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], name) == 0)
            return atol(argv[i + 1]);
    return fallback;
}

static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parked = PTHREAD_COND_INITIALIZER;

static void *park(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&parked_lock);
    for (;;)
        pthread_cond_wait(&parked, &parked_lock);
    return NULL;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t pages = (size_t)option(argc, argv, "--heap-mib", 256) * 256;
    size_t hot = (size_t)option(argc, argv, "--hot-mib", 8) * 256;
    long hot_percent = option(argc, argv, "--hot-percent", 95);
    uint64_t duration = (uint64_t)option(argc, argv, "--seconds", 5) * 1000000000u;
    if (hot == 0 || hot > pages) {
        fprintf(stderr, "--hot-mib must be between 1 and --heap-mib\n");
        return 2;
    }
    uint64_t *heap = NULL;
    if (posix_memalign((void **)&heap, 2u << 20, pages * 4096) != 0) {
        perror("posix_memalign");
        return 2;
    }
    if (option(argc, argv, "--thp", 0) && madvise(heap, pages * 4096, MADV_HUGEPAGE) != 0) {
        perror("madvise(MADV_HUGEPAGE)");
        return 2;
    }
    for (size_t p = 0; p < pages; p++)
        heap[p * 512] = p;
    for (long i = 1; i < option(argc, argv, "--threads", 1); i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, park, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 2;
        }
    }
    pid_t self = getpid();
    for (long i = 1; i < option(argc, argv, "--processes", 1); i++) {
        pid_t child = fork();
        if (child < 0) {
            perror("fork");
            return 2;
        }
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != self)
                _exit(0);
            munmap(heap, pages * 4096);
            for (;;)
                pause();
        }
    }
    printf("ready pid=%d\n", (int)getpid());
    fflush(stdout);

    uint64_t x = 88172645463325252u, writes = 0, max_stall = 0;
    uint64_t start = now_ns(), last = start, t = start;
    while (t - start < duration) {
        for (int i = 0; i < 256; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t page = (long)(x % 100) < hot_percent ? (x >> 8) % hot : (x >> 8) % pages;
            heap[page * 512 + (x >> 40) % 512] += 1;
        }
        writes += 256;
        t = now_ns();
        if (t - last > max_stall)
            max_stall = t - last;
        last = t;
    }
    printf("writes=%lu per_second=%.0f max_stall_us=%lu\n", (unsigned long)writes,
           writes / ((t - start) / 1e9), (unsigned long)(max_stall / 1000));
    return 0;
}
