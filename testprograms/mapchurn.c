/* A program whose mappings change every tick, for checkpoints that must follow them: it maps
 * a new anonymous region of a tick-dependent size, unmaps the oldest of the last few, grows its
 * heap with sbrk, and flips a region between read-only and read-write. Every region holds a
 * pattern derived from the tick that made it, checked on the verify trigger.
 *
 * usage: mapchurn --verify-file PATH [--self-test-corrupt region|heap|flip]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove the check
 * can fail. */
#include "selfcheck.h"
#include <sys/mman.h>

#define KEPT 4
#define PAGE 4096

struct region {
    uint64_t *words;
    size_t pages;
    uint64_t tick;
};

static struct region regions[KEPT];
static uint64_t *heap_words[64];
static int heap_count;

static void fill(uint64_t *w, size_t words, uint64_t seed)
{
    for (size_t i = 0; i < words; i++)
        w[i] = sc_pattern(i, seed);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "region", "heap", "flip", NULL });

    uint64_t *flipping = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (flipping == MAP_FAILED)
        sc_die("mmap");
    fill(flipping, 8 * PAGE / 8, 7);

    sc_say("ready pid=%d", (int)getpid());
    for (uint64_t tick = 1;; tick++) {
        struct region *r = &regions[tick % KEPT];
        if (r->words && munmap(r->words, r->pages * PAGE) != 0)
            sc_die("munmap");
        r->pages = 16 + tick % 48;
        r->tick = tick;
        r->words = mmap(NULL, r->pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r->words == MAP_FAILED)
            sc_die("mmap");
        fill(r->words, r->pages * PAGE / 8, tick);
        if (heap_count < 64) {
            uint64_t *grown = sbrk(PAGE);
            if (grown == (void *)-1)
                sc_die("sbrk");
            fill(grown, PAGE / 8, 1000 + heap_count);
            heap_words[heap_count++] = grown;
        }
        if (mprotect(flipping, 8 * PAGE, tick % 2 ? PROT_READ : PROT_READ | PROT_WRITE) != 0)
            sc_die("mprotect");
        sc_say("tick %lu", (unsigned long)tick);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    if (corruption) {
        if (mprotect(flipping, 8 * PAGE, PROT_READ | PROT_WRITE) != 0)
            sc_die("mprotect");
        if (strcmp(corruption, "region") == 0)
            regions[1].words[3] ^= 1;
        else if (strcmp(corruption, "heap") == 0)
            heap_words[0][5] ^= 1;
        else
            flipping[9] ^= 1;
    }
    for (int i = 0; i < KEPT; i++)
        if (regions[i].words)
            sc_check_pattern(regions[i].words, regions[i].pages * PAGE / 8, regions[i].tick, "region");
    for (int i = 0; i < heap_count; i++)
        sc_check_pattern(heap_words[i], PAGE / 8, 1000 + i, "heap");
    sc_check_pattern(flipping, 8 * PAGE / 8, 7, "flip");
    return sc_verdict();
}
