/* A program that runs another program: generation 0 sets up a heap pattern, ticks, and once the
 * file --exec-file exists runs itself again (execv of /proc/self/exe) as generation 1, which sets up a heap of
 * its own (another size and pattern) and ticks on from where generation 0 stopped. Its check
 * covers the generation it is: the heap pattern of that generation, the tick counter held twice.
 * A checkpoint taken after the exec must restore generation 1 with its own memory.
 *
 * usage: execself --verify-file PATH [--exec-file PATH] [--self-test-corrupt heap|counter]
 * (--generation and --from-tick are what generation 0 passes to generation 1) */
#include "selfcheck.h"

#define HEAP_WORDS(generation) ((size_t)(generation + 1) << 17) /* 1 MiB, then 2 MiB */

static uint64_t ticks;

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--exec-file", "--self-test-corrupt", "--generation",
                                         "--from-tick", NULL };
    const char *values[5] = { NULL, NULL, NULL, NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *exec_file = values[1];
    const char *corruption = sc_one_of(values[2], names[2], (const char *const[]){ "heap", "counter", NULL });
    int generation = values[3] ? atoi(values[3]) : 0;
    ticks = values[4] ? strtoull(values[4], NULL, 10) : 0;

    size_t words = HEAP_WORDS(generation);
    uint64_t *heap = malloc((words + 1) * sizeof *heap);
    if (!heap)
        sc_die("malloc");
    for (size_t i = 0; i < words; i++)
        heap[i] = sc_pattern(i, (uint64_t)generation);

    sc_say("ready pid=%d generation=%d", (int)getpid(), generation);
    for (;;) {
        ticks++;
        heap[words] = ticks;
        sc_say("tick %lu", (unsigned long)ticks);
        if (sc_verify_requested(verify_file))
            break;
        if (generation == 0 && exec_file && access(exec_file, F_OK) == 0) {
            char from[32];
            snprintf(from, sizeof from, "%lu", (unsigned long)ticks);
            char *args[16];
            int n = 0;
            args[n++] = argv[0];
            args[n++] = "--verify-file";
            args[n++] = (char *)verify_file;
            if (corruption) {
                args[n++] = "--self-test-corrupt";
                args[n++] = (char *)corruption;
            }
            args[n++] = "--generation";
            args[n++] = "1";
            args[n++] = "--from-tick";
            args[n++] = from;
            args[n] = NULL;
            execv("/proc/self/exe", args);
            sc_die("execv /proc/self/exe");
        }
        sc_nap();
    }
    if (corruption && strcmp(corruption, "heap") == 0)
        heap[words / 2] ^= 1;
    else if (corruption)
        ticks++;
    if (heap[words] != ticks)
        sc_fail("counter: heap copy %lu, global %lu", (unsigned long)heap[words], (unsigned long)ticks);
    sc_check_pattern(heap, words, (uint64_t)generation, "heap");
    if (sc_failures == 0)
        sc_say("generation %d", generation);
    return sc_verdict();
}
