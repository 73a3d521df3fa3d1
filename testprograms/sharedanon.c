/* Shared anonymous memory across a process tree: the parent maps MAP_SHARED | MAP_ANONYMOUS
 * memory and forks a child, which forks a grandchild; all three keep the mapping where fork left
 * it and talk only through it. The parent checks on the verify trigger:
 *   shared    each descendant copies the parent's generation word into its own slot about every
 *             10 ms; at verify the parent raises the generation and both slots must reach it
 *             within WAIT_SECONDS: the parent's writes reach them and theirs reach it, so the
 *             three mappings are one memory (a restore that gave each its own copy fails here)
 *   contents  the parent writes one of DATA_PAGES pages a tick with sc_pattern(word, tick); every
 *             page holds the pattern of its last write (remembered in private memory), or zeros
 *             if it was never written; and each
 *             descendant's own page, which it rewrites with its count on every pass, holds the
 *             pattern of the count it last published, read after it exited
 *   children  at verify the parent sets the stop word; the grandchild exits 0, the child reaps
 *             it, publishes its status and exits 0 (1 if the grandchild's was not 0); the parent
 *             reaps the child within WAIT_SECONDS
 *
 * usage: sharedanon --verify-file PATH [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   shared    the parent reads the generation and the slots through a private copy of the memory
 *   contents  one word of a data page is altered
 *   children  the stop word tells the grandchild to exit with status 3 */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define PAGE 4096
#define DATA_PAGES 64
#define WAIT_SECONDS 4
#define PASS_NANOS 10000000L
#define WORDS (PAGE / sizeof(uint64_t))

enum { CHILD, GRANDCHILD, DESCENDANTS };
static const char *const who[DESCENDANTS] = { "the child", "the grandchild" };

/* The first page of the shared memory. */
struct control {
    _Atomic uint64_t generation;
    _Atomic uint64_t seen[DESCENDANTS];
    _Atomic uint64_t published[DESCENDANTS]; /* the count each one's own page holds */
    _Atomic int stop;                        /* 1: exit 0; 2: the grandchild exits 3 */
    _Atomic int grandchild_status;
};

/* Laid out as: the control page, DATA_PAGES pages the parent writes, a page per descendant. */
#define SIZE ((size_t)(1 + DATA_PAGES + DESCENDANTS) * PAGE)

static const char *corruption;
static unsigned char *memory;
static struct control *control;
static uint64_t last_written[DATA_PAGES];
static pid_t child;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

static uint64_t *data_page(unsigned char *base, size_t page)
{
    return (uint64_t *)(base + (1 + page) * PAGE);
}

static uint64_t *own_page(unsigned char *base, int descendant)
{
    return (uint64_t *)(base + (1 + DATA_PAGES + (size_t)descendant) * PAGE);
}

static void fill(uint64_t *page, uint64_t generation)
{
    for (size_t w = 0; w < WORDS; w++)
        page[w] = sc_pattern(w, generation);
}

/* A descendant's life: a pass every PASS_NANOS until the stop word, then its exit status. */
static int descend(int me)
{
    uint64_t count = 0;
    int stop;
    while ((stop = atomic_load(&control->stop)) == 0) {
        atomic_store(&control->seen[me], atomic_load(&control->generation));
        fill(own_page(memory, me), ++count);
        atomic_store(&control->published[me], count);
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
    return me == GRANDCHILD && stop == 2 ? 3 : 0;
}

/* Right after a fork: dies with its parent, unless the parent (`parent`) is already gone. */
static void die_with(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        sc_die("prctl");
    if (getppid() != parent)
        _exit(1);
}

static void child_life(pid_t parent)
{
    die_with(parent);
    pid_t me = getpid();
    pid_t grandchild = fork();
    if (grandchild < 0)
        _exit(2);
    if (grandchild == 0) {
        die_with(me);
        _exit(descend(GRANDCHILD));
    }
    descend(CHILD);
    int status;
    while (waitpid(grandchild, &status, 0) != grandchild) {
        if (errno != EINTR)
            _exit(2);
    }
    atomic_store(&control->grandchild_status, status);
    _exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}

static void tick(uint64_t t)
{
    size_t page = t % DATA_PAGES;
    fill(data_page(memory, page), t);
    last_written[page] = t;
    atomic_store(&control->generation, t);
}

static void verify_shared(void)
{
    unsigned char *view = memory;
    if (corrupting("shared")) {
        view = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (view == MAP_FAILED)
            sc_die("mmap");
        memcpy(view, memory, SIZE);
    }
    struct control *c = (struct control *)view;
    uint64_t wanted = atomic_load(&c->generation) + 1;
    atomic_store(&c->generation, wanted);
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    while ((atomic_load(&c->seen[CHILD]) < wanted || atomic_load(&c->seen[GRANDCHILD]) < wanted)
            && sc_now_nanos() < deadline) {
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
    uint64_t seen[DESCENDANTS] = { atomic_load(&c->seen[CHILD]), atomic_load(&c->seen[GRANDCHILD]) };
    if (seen[CHILD] < wanted || seen[GRANDCHILD] < wanted)
        sc_fail("shared: the parent raised the generation to %lu; within %d s the child had seen %lu and the"
                " grandchild %lu: their memory is not one", (unsigned long)wanted, WAIT_SECONDS,
                (unsigned long)seen[CHILD], (unsigned long)seen[GRANDCHILD]);
    if (view != memory) {
        /* the descendants never saw the raise: the generation they go by stays what it was */
        munmap(view, SIZE);
    }
}

/* Stops the descendants and reaps the child within WAIT_SECONDS (killing it after); 1 if both ended well. */
static int verify_children(void)
{
    atomic_store(&control->stop, corrupting("children") ? 2 : 1);
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(child, &status, WNOHANG);
        if (r == child)
            break;
        if (r < 0 && errno != EINTR)
            sc_die("waitpid");
        if (sc_now_nanos() > deadline) {
            kill(child, SIGKILL);
            while (waitpid(child, &status, 0) != child) {
                if (errno != EINTR)
                    sc_die("waitpid");
            }
            sc_fail("children: the child (pid %d) did not exit within %d s of the stop word and was killed",
                    (int)child, WAIT_SECONDS);
            return 0;
        }
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
    char how[64], grandchild_how[64];
    sc_describe_status(status, how, sizeof how);
    sc_describe_status(atomic_load(&control->grandchild_status), grandchild_how, sizeof grandchild_how);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        sc_fail("children: the child (pid %d) %s; the grandchild %s", (int)child, how, grandchild_how);
        return 0;
    }
    return 1;
}

static void verify_contents(int descendants_ended)
{
    if (corrupting("contents"))
        data_page(memory, 5)[17] ^= 1;
    for (size_t page = 0; page < DATA_PAGES; page++) {
        const uint64_t *words = data_page(memory, page);
        for (size_t w = 0; w < WORDS; w++) {
            uint64_t due = last_written[page] ? sc_pattern(w, last_written[page]) : 0;
            if (words[w] != due) {
                sc_fail("contents: data page %zu, word %zu is %016lx, %016lx since tick %lu", page, w,
                        (unsigned long)words[w], (unsigned long)due, (unsigned long)last_written[page]);
                return;
            }
        }
    }
    if (!descendants_ended)
        return; /* their pages may be mid-write */
    for (int d = 0; d < DESCENDANTS; d++) {
        uint64_t count = atomic_load(&control->published[d]);
        const uint64_t *words = own_page(memory, d);
        for (size_t w = 0; w < WORDS; w++) {
            if (words[w] != sc_pattern(w, count)) {
                sc_fail("contents: %s's page, word %zu is %016lx, which its count %lu makes %016lx", who[d], w,
                        (unsigned long)words[w], (unsigned long)count, (unsigned long)sc_pattern(w, count));
                return;
            }
        }
    }
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1], (const char *const[]){ "shared", "contents", "children", NULL });

    memory = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        sc_die("mmap");
    control = (struct control *)memory;
    pid_t parent = getpid();
    child = fork();
    if (child < 0)
        sc_die("fork");
    if (child == 0)
        child_life(parent);

    sc_tick_until_verify(verify_file, tick);
    verify_shared();
    int ended = verify_children();
    verify_contents(ended);
    return sc_verdict();
}
