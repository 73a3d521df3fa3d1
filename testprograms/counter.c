/* The smallest self-checking program: a tick counter kept twice (a global and a small heap
 * block that also carries a pattern), for tests that only need something alive to capture.
 *
 * usage: counter --verify-file PATH [--self-test-corrupt heap|counter] [--fork-advice dontfork|wipeonfork]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove the check
 * can fail. --fork-advice puts the heap block in a mapping of its own that a fork leaves out
 * (MADV_DONTFORK) or empties (MADV_WIPEONFORK). */
#include <sys/mman.h>

#include "selfcheck.h"

#define BLOCK_WORDS 512

struct block {
    uint64_t ticks;
    uint64_t pattern[BLOCK_WORDS];
};

static uint64_t ticks;

static void corrupt(struct block *b, const char *kind)
{
    if (strcmp(kind, "heap") == 0)
        b->pattern[BLOCK_WORDS / 2] ^= 1;
    else if (strcmp(kind, "counter") == 0)
        ticks++;
}

static void verify(const struct block *b)
{
    if (b->ticks != ticks)
        sc_fail("counter: heap copy %lu, global %lu", (unsigned long)b->ticks, (unsigned long)ticks);
    sc_check_pattern(b->pattern, BLOCK_WORDS, 0, "heap");
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", "--fork-advice", NULL };
    const char *values[3] = { NULL, NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "heap", "counter", NULL });

    const char *advice = values[2];
    struct block *b;
    if (advice) {
        int how = strcmp(advice, "dontfork") == 0 ? MADV_DONTFORK
                : strcmp(advice, "wipeonfork") == 0 ? MADV_WIPEONFORK : -1;
        if (how < 0) {
            fprintf(stderr, "--fork-advice takes dontfork or wipeonfork, not %s\n", advice);
            return 2;
        }
        b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED)
            sc_die("mmap");
        if (madvise(b, sizeof *b, how) != 0)
            sc_die("madvise");
    } else {
        b = calloc(1, sizeof *b);
        if (!b)
            sc_die("calloc");
    }
    for (int i = 0; i < BLOCK_WORDS; i++)
        b->pattern[i] = sc_pattern(i, 0);

    sc_say("ready pid=%d", (int)getpid());
    for (;;) {
        ticks++;
        b->ticks = ticks;
        sc_say("tick %lu", (unsigned long)ticks);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    if (corruption)
        corrupt(b, corruption);
    verify(b);
    return sc_verdict();
}
