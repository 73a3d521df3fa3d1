/* The acceptance program: every piece of process state a restore must bring back, each
 * changed as it runs and each checked on the verify trigger:
 *   heap      a large buffer rewritten each tick; one generation counter per 4 KiB page
 *             says what every byte must hold
 *   tls       a __thread counter that must equal the global tick count
 *   sigaction the SIGUSR1 handler, its SA_RESTART|SA_SIGINFO flags and its mask; the test
 *             sends SIGUSR1 before the trigger and the handler must have run
 *   sigmask   SIGUSR2, and only it, blocked
 *   log       an O_APPEND file, one "tick N" line per tick: no gap, no restart from 1, at most
 *             --log-steps-back steps back to an earlier tick (default 1: one per restore)
 *   rofile    the data file read-only, read 16 bytes a tick: the offset and bytes are known
 *   private   a MAP_PRIVATE mapping of the data file, written into (copy-on-write pages)
 *             on even pages only; odd pages and the file itself stay as written at setup
 *   shared    a MAP_SHARED|MAP_ANONYMOUS area, one page rewritten a tick
 *   stack     frames of a recursion, each holding a local array checked on the way out
 *
 * usage: memstate --verify-file PATH --log PATH --data PATH [--heap-mib N]
 *                 [--log-steps-back N] [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail (KIND: see the corruptions table). */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* glibc sets it and sigaction(2) reports it back */
#endif

#define PAGE 4096UL
#define PAGE_WORDS (PAGE / sizeof(uint64_t))
#define DATA_BYTES (40 * PAGE + 1234) /* ends mid-page: the mapping's tail must stay zero */
#define DATA_FULL_PAGES (DATA_BYTES / PAGE)
#define RO_START 4321
#define RO_CHUNK 16
#define SHARED_PAGES 16
#define SHARED_SALT (1ULL << 48) /* keeps the shared area's pattern apart from the heap's */
#define STACK_DEPTH 16
#define FRAME_BYTES 512
#define USR1_FLAGS (SA_RESTART | SA_SIGINFO)

static struct {
    uint64_t ticks;
    unsigned char *heap;
    size_t heap_pages;
    uint32_t *generations;
    uint64_t heap_writes;
    uint64_t rng;
    const char *log_path;
    int log_fd;
    unsigned long log_steps_back;
    int ro_fd;
    off_t ro_offset;
    off_t ro_bad_read;
    unsigned char *priv;
    char data_path[PATH_MAX];
    unsigned char *shared;
    unsigned char *deepest_frame;
} state;

static __thread uint64_t tls_ticks;
static volatile sig_atomic_t usr1_count;
static volatile sig_atomic_t usr1_signo;

static void on_usr1(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    usr1_signo = info->si_signo; /* garbage unless SA_SIGINFO survived */
    usr1_count++;
}

/* True when the set holds exactly one signal, `only` (0: holds none). */
static int set_is_only(const sigset_t *set, int only)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if ((sigismember(set, sig) == 1) != (sig == only))
            return 0;
    }
    return 1;
}

static unsigned char data_byte(uint64_t offset)
{
    return (unsigned char)(sc_pattern(offset, 7) >> 56);
}

static void fill_block(uint64_t *words, uint64_t base, uint64_t generation)
{
    for (size_t k = 0; k < PAGE_WORDS; k++)
        words[k] = sc_pattern(base + k * 8, generation);
}

/* The index of the first word that differs from fill_block's, or -1. */
static long check_block(const uint64_t *words, uint64_t base, uint64_t generation)
{
    for (size_t k = 0; k < PAGE_WORDS; k++)
        if (words[k] != sc_pattern(base + k * 8, generation))
            return (long)k;
    return -1;
}

static uint64_t next_random(void)
{
    state.rng ^= state.rng << 13;
    state.rng ^= state.rng >> 7;
    state.rng ^= state.rng << 17;
    return state.rng;
}

/* ---- per tick ---- */

static void heap_work(void)
{
    size_t per_tick = state.heap_pages / 16 ? state.heap_pages / 16 : 1;
    for (size_t i = 0; i < per_tick; i++) {
        size_t page = next_random() % state.heap_pages;
        state.generations[page]++;
        fill_block((uint64_t *)(state.heap + page * PAGE), page * PAGE, state.generations[page]);
    }
    state.heap_writes += per_tick;
}

static size_t private_position(uint64_t tick)
{
    return 2 * (tick * 7 % (DATA_FULL_PAGES / 2)) * PAGE + tick * 613 % PAGE;
}

static unsigned char private_value(uint64_t tick, size_t position)
{
    return (unsigned char)(data_byte(position) + 1 + tick % 255); /* never the file's byte */
}

static void private_work(void)
{
    size_t position = private_position(state.ticks);
    state.priv[position] = private_value(state.ticks, position);
}

static void shared_work(void)
{
    size_t page = state.ticks % SHARED_PAGES;
    fill_block((uint64_t *)(state.shared + page * PAGE), SHARED_SALT + page * PAGE, state.ticks);
}

static void ro_work(void)
{
    if (state.ro_offset + RO_CHUNK > (off_t)DATA_BYTES) {
        if (lseek(state.ro_fd, 0, SEEK_SET) != 0)
            sc_die("lseek data file");
        state.ro_offset = 0;
    }
    unsigned char chunk[RO_CHUNK];
    int good = read(state.ro_fd, chunk, RO_CHUNK) == RO_CHUNK;
    for (int i = 0; good && i < RO_CHUNK; i++)
        good = chunk[i] == data_byte(state.ro_offset + i);
    if (!good && state.ro_bad_read < 0)
        state.ro_bad_read = state.ro_offset; /* reported on the trigger: verdicts come last */
    state.ro_offset += RO_CHUNK;
}

static void log_tick(void)
{
    char line[32];
    int length = snprintf(line, sizeof line, "tick %lu\n", (unsigned long)state.ticks);
    if (write(state.log_fd, line, length) != length)
        sc_die("write log");
}

/* ---- verification ---- */

static void verify_heap(void)
{
    uint64_t generations = 0;
    for (size_t page = 0; page < state.heap_pages; page++)
        generations += state.generations[page];
    if (generations != state.heap_writes)
        sc_fail("heap: page generations sum to %lu, %lu page writes were made",
                (unsigned long)generations, (unsigned long)state.heap_writes);
    for (size_t page = 0; page < state.heap_pages; page++) {
        long word = check_block((uint64_t *)(state.heap + page * PAGE), page * PAGE,
                                state.generations[page]);
        if (word >= 0) {
            sc_fail("heap: page %zu (generation %u) differs at byte %ld", page,
                    state.generations[page], word * 8);
            return;
        }
    }
}

static void verify_tls(void)
{
    if (tls_ticks != state.ticks)
        sc_fail("tls: __thread counter %lu, global %lu", (unsigned long)tls_ticks,
                (unsigned long)state.ticks);
}

static void verify_signals(void)
{
    struct sigaction current;
    if (sigaction(SIGUSR1, NULL, &current) != 0)
        sc_die("sigaction");
    if (current.sa_sigaction != on_usr1)
        sc_fail("sigaction: SIGUSR1 handler is %p, expected %p", (void *)current.sa_sigaction,
                (void *)on_usr1);
    if ((current.sa_flags & ~SA_RESTORER) != USR1_FLAGS)
        sc_fail("sigaction: SIGUSR1 flags are %#x, expected %#x (SA_RESTART|SA_SIGINFO)",
                (unsigned)(current.sa_flags & ~SA_RESTORER), (unsigned)USR1_FLAGS);
    if (!set_is_only(&current.sa_mask, SIGHUP))
        sc_fail("sigaction: SIGUSR1 handler mask is not exactly {SIGHUP}");
    if (usr1_count == 0)
        sc_fail("sigaction: the SIGUSR1 handler never ran (send SIGUSR1 before the verify file)");
    else if (usr1_signo != SIGUSR1)
        sc_fail("sigaction: the handler saw si_signo %d, expected SIGUSR1", (int)usr1_signo);

    sigset_t blocked;
    if (sigprocmask(SIG_BLOCK, NULL, &blocked) != 0)
        sc_die("sigprocmask");
    if (!set_is_only(&blocked, SIGUSR2))
        sc_fail("sigmask: blocked signals are not exactly {SIGUSR2}");
}

/* Allowed: consecutive lines, and up to state.log_steps_back steps back to an earlier tick:
 * one per restore, since the checkpointed process went on appending to the same file after
 * the checkpoint. Two writers at once show as many steps back, or as gaps. */
static void verify_log(void)
{
    int flags = fcntl(state.log_fd, F_GETFL);
    if (flags < 0 || !(flags & O_APPEND))
        sc_fail("log: fd %d lost O_APPEND (flags %#x)", state.log_fd, (unsigned)flags);

    FILE *log = fopen(state.log_path, "r");
    if (!log) {
        sc_fail("log: cannot open %s: %s", state.log_path, strerror(errno));
        return;
    }
    unsigned long previous = 0, tick, line = 0, steps_back = 0;
    while (fscanf(log, "tick %lu\n", &tick) == 1) {
        line++;
        if (tick == 1 && previous != 0) {
            sc_fail("log: restarts from tick 1 at line %lu, after tick %lu", line, previous);
            break;
        }
        if (tick > previous + 1 || tick == 0) {
            sc_fail("log: line %lu is tick %lu after tick %lu (a gap)", line, tick, previous);
            break;
        }
        if (tick <= previous && ++steps_back > state.log_steps_back) {
            sc_fail("log: line %lu is tick %lu after tick %lu, step back %lu of at most %lu"
                    " (--log-steps-back: one per restore)", line, tick, previous, steps_back,
                    state.log_steps_back);
            break;
        }
        previous = tick;
    }
    if (!feof(log))
        sc_fail("log: line %lu is not a tick line", line + 1);
    else if (previous != state.ticks)
        sc_fail("log: ends at tick %lu, the program is at tick %lu", previous,
                (unsigned long)state.ticks);
    fclose(log);
}

static void verify_rofile(void)
{
    if (state.ro_bad_read >= 0)
        sc_fail("rofile: the read at offset %ld gave other bytes while running", (long)state.ro_bad_read);
    off_t offset = lseek(state.ro_fd, 0, SEEK_CUR);
    if (offset != state.ro_offset) {
        sc_fail("rofile: fd %d is at offset %ld, expected %ld", state.ro_fd, (long)offset,
                (long)state.ro_offset);
        return;
    }
    unsigned char chunk[RO_CHUNK];
    ssize_t expected = DATA_BYTES - offset < RO_CHUNK ? DATA_BYTES - offset : RO_CHUNK;
    if (read(state.ro_fd, chunk, RO_CHUNK) != expected) {
        sc_fail("rofile: fd %d read other than %zd bytes at offset %ld", state.ro_fd, expected,
                (long)offset);
        return;
    }
    for (ssize_t i = 0; i < expected; i++)
        if (chunk[i] != data_byte(offset + i)) {
            sc_fail("rofile: byte at offset %ld differs", (long)(offset + i));
            return;
        }
}

/* The /proc/self/maps line of the mapping starting at addr: its permissions and path. */
static int find_mapping(const void *addr, char perms[5], char *path, size_t path_size)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        sc_die("open /proc/self/maps");
    char line[PATH_MAX + 128];
    int found = 0;
    while (!found && fgets(line, sizeof line, maps)) {
        unsigned long start;
        int path_at = 0;
        if (sscanf(line, "%lx-%*x %4s %*x %*s %*u %n", &start, perms, &path_at) >= 2 &&
            start == (unsigned long)addr) {
            snprintf(path, path_size, "%s", line + path_at);
            path[strcspn(path, "\n")] = '\0';
            found = 1;
        }
    }
    fclose(maps);
    return found;
}

static void verify_mapping(const char *what, const void *addr, char sharing, const char *path)
{
    char perms[5], actual[PATH_MAX];
    if (!find_mapping(addr, perms, actual, sizeof actual))
        sc_fail("%s: no mapping starts at %p", what, addr);
    else if (perms[3] != sharing || strcmp(actual, path) != 0)
        sc_fail("%s: mapping at %p is %s %s, expected %c and %s", what, addr, perms, actual,
                sharing, path);
}

static void verify_private(void)
{
    verify_mapping("private", state.priv, 'p', state.data_path);

    unsigned char *expected = malloc(DATA_BYTES);
    unsigned char *file = malloc(DATA_BYTES);
    if (!expected || !file)
        sc_die("malloc");
    for (size_t i = 0; i < DATA_BYTES; i++)
        expected[i] = data_byte(i);
    if (pread(state.ro_fd, file, DATA_BYTES, 0) != (ssize_t)DATA_BYTES ||
        memcmp(file, expected, DATA_BYTES) != 0)
        sc_fail("private: the data file %s changed on disk", state.data_path);
    for (uint64_t tick = 1; tick <= state.ticks; tick++) {
        size_t position = private_position(tick);
        expected[position] = private_value(tick, position);
    }
    for (size_t i = 0; i < DATA_BYTES; i++)
        if (state.priv[i] != expected[i]) {
            sc_fail("private: byte %zu (page %zu, %s) is %#x, expected %#x", i, i / PAGE,
                    i / PAGE % 2 ? "never written" : "written", state.priv[i], expected[i]);
            break;
        }
    for (size_t i = DATA_BYTES; i % PAGE != 0; i++)
        if (state.priv[i] != 0) {
            sc_fail("private: byte %zu past the end of the file is not zero", i);
            break;
        }
    free(file);
    free(expected);
}

static void verify_shared(void)
{
    verify_mapping("shared", state.shared, 's', "/dev/zero (deleted)");
    for (size_t page = 0; page < SHARED_PAGES; page++) {
        /* the last tick that rewrote this page, 0 (setup) if none did */
        uint64_t back = (state.ticks + SHARED_PAGES - page) % SHARED_PAGES;
        uint64_t generation = state.ticks >= back ? state.ticks - back : 0;
        long word = check_block((uint64_t *)(state.shared + page * PAGE),
                                SHARED_SALT + page * PAGE, generation);
        if (word >= 0) {
            sc_fail("shared: page %zu (generation %lu) differs at byte %ld", page,
                    (unsigned long)generation, word * 8);
            return;
        }
    }
}

static void verify(void)
{
    verify_heap();
    verify_tls();
    verify_signals();
    verify_log();
    verify_rofile();
    verify_private();
    verify_shared();
    /* the stack frames check themselves as the recursion unwinds */
}

/* ---- corruptions for --self-test-corrupt ---- */

/* What a restore that lost a mapping's kind would produce: same bytes, anonymous private. */
static void replace_with_anonymous_copy(void *addr, size_t length)
{
    void *copy = malloc(length);
    if (!copy)
        sc_die("malloc");
    memcpy(copy, addr, length);
    if (mmap(addr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
             0) != addr)
        sc_die("mmap MAP_FIXED");
    memcpy(addr, copy, length);
    free(copy);
}

static void corrupt_heap(void) { state.heap[state.heap_pages * PAGE / 2 + 3] ^= 0x10; }
static void corrupt_tls(void) { tls_ticks++; }
static void corrupt_sigmask(void)
{
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
}
static void corrupt_sigaction(void)
{
    struct sigaction action = { .sa_sigaction = on_usr1, .sa_flags = SA_RESTART };
    sigaction(SIGUSR1, &action, NULL);
}
static void corrupt_log(void)
{
    if (write(state.log_fd, "tick 1\n", 7) != 7)
        sc_die("write log");
}
static void corrupt_log_steps(void) /* the last tick twice more: two steps back, one allowed */
{
    char line[32];
    int length = snprintf(line, sizeof line, "tick %lu\n", (unsigned long)state.ticks);
    for (int i = 0; i < 2; i++)
        if (write(state.log_fd, line, length) != length)
            sc_die("write log");
}
static void corrupt_log_append(void) { fcntl(state.log_fd, F_SETFL, 0); }
static void corrupt_rofile(void) { lseek(state.ro_fd, 1, SEEK_CUR); }
static void corrupt_private(void) { state.priv[PAGE + 5] ^= 0x01; } /* an odd, clean page */
static void corrupt_private_kind(void)
{
    replace_with_anonymous_copy(state.priv, (DATA_BYTES + PAGE - 1) / PAGE * PAGE);
}
static void corrupt_shared(void) { state.shared[3 * PAGE + 100] ^= 0x01; }
static void corrupt_shared_kind(void) { replace_with_anonymous_copy(state.shared, SHARED_PAGES * PAGE); }
static void corrupt_stack(void) { state.deepest_frame[7] ^= 0x01; }

static const struct corruption {
    const char *kind;
    void (*apply)(void);
} corruptions[] = {
    { "heap", corrupt_heap },
    { "tls", corrupt_tls },
    { "sigaction", corrupt_sigaction },
    { "sigmask", corrupt_sigmask },
    { "log", corrupt_log },
    { "log-append", corrupt_log_append },
    { "log-steps", corrupt_log_steps },
    { "rofile", corrupt_rofile },
    { "private", corrupt_private },
    { "private-kind", corrupt_private_kind },
    { "shared", corrupt_shared },
    { "shared-kind", corrupt_shared_kind },
    { "stack", corrupt_stack },
    { NULL, NULL },
};

static const struct corruption *find_corruption(const char *kind)
{
    if (!kind)
        return NULL;
    for (const struct corruption *c = corruptions; c->kind; c++)
        if (strcmp(c->kind, kind) == 0)
            return c;
    fprintf(stderr, "unknown --self-test-corrupt kind %s\n", kind);
    exit(2);
}

/* ---- setup and the loop ---- */

static void setup_memory(size_t heap_mib)
{
    state.heap_pages = heap_mib * 1024 * 1024 / PAGE;
    state.heap = aligned_alloc(PAGE, state.heap_pages * PAGE);
    state.generations = calloc(state.heap_pages, sizeof *state.generations);
    if (!state.heap || !state.generations)
        sc_die("allocate the heap");
    for (size_t page = 0; page < state.heap_pages; page++)
        fill_block((uint64_t *)(state.heap + page * PAGE), page * PAGE, 0);
    state.rng = 0x2545F4914F6CDD1DULL;

    state.shared = mmap(NULL, SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (state.shared == MAP_FAILED)
        sc_die("mmap shared");
    for (size_t page = 0; page < SHARED_PAGES; page++)
        fill_block((uint64_t *)(state.shared + page * PAGE), SHARED_SALT + page * PAGE, 0);
}

static void setup_files(const char *log_path, const char *data_path)
{
    state.log_path = log_path;
    state.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (state.log_fd < 0)
        sc_die(log_path);

    int out = open(data_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        sc_die(data_path);
    unsigned char *bytes = malloc(DATA_BYTES);
    if (!bytes)
        sc_die("malloc");
    for (size_t i = 0; i < DATA_BYTES; i++)
        bytes[i] = data_byte(i);
    if (write(out, bytes, DATA_BYTES) != (ssize_t)DATA_BYTES || close(out) != 0)
        sc_die(data_path);
    free(bytes);
    if (!realpath(data_path, state.data_path))
        sc_die(data_path);

    state.ro_fd = open(data_path, O_RDONLY | O_CLOEXEC);
    if (state.ro_fd < 0 || lseek(state.ro_fd, RO_START, SEEK_SET) != RO_START)
        sc_die(data_path);
    state.ro_offset = RO_START;
    state.ro_bad_read = -1;
    state.priv = mmap(NULL, DATA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE, state.ro_fd, 0);
    if (state.priv == MAP_FAILED)
        sc_die("mmap data file");
}

static void setup_signals(void)
{
    struct sigaction action = { .sa_sigaction = on_usr1, .sa_flags = USR1_FLAGS };
    sigemptyset(&action.sa_mask);
    sigaddset(&action.sa_mask, SIGHUP);
    if (sigaction(SIGUSR1, &action, NULL) != 0)
        sc_die("sigaction SIGUSR1");
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &usr2, NULL) != 0)
        sc_die("sigprocmask");
}

static void run(const char *verify_file, const struct corruption *corruption)
{
    for (;;) {
        state.ticks++;
        tls_ticks++;
        heap_work();
        private_work();
        shared_work();
        ro_work();
        log_tick();
        sc_say("tick %lu", (unsigned long)state.ticks);
        if (sc_verify_requested(verify_file))
            break;
        sc_nap();
    }
    if (corruption)
        corruption->apply();
    verify();
}

static unsigned char frame_byte(int depth, int index)
{
    return (unsigned char)(sc_pattern((uint64_t)depth * FRAME_BYTES + index, 3) >> 56);
}

/* noipa: the compiler must not see through these and drop the frames' arrays. */
static __attribute__((noipa)) void fill_frame(unsigned char *frame, int depth)
{
    for (int i = 0; i < FRAME_BYTES; i++)
        frame[i] = frame_byte(depth, i);
}

static __attribute__((noipa)) void check_frame(const unsigned char *frame, int depth)
{
    for (int i = 0; i < FRAME_BYTES; i++)
        if (frame[i] != frame_byte(depth, i)) {
            sc_fail("stack: frame at depth %d differs at byte %d", depth, i);
            return;
        }
}

/* The loop runs at the bottom of a recursion, so the checkpoint holds these frames. */
static __attribute__((noipa)) void descend(int depth, const char *verify_file,
                                           const struct corruption *corruption)
{
    unsigned char frame[FRAME_BYTES];
    fill_frame(frame, depth);
    if (depth == STACK_DEPTH) {
        state.deepest_frame = frame;
        run(verify_file, corruption);
    } else {
        descend(depth + 1, verify_file, corruption);
    }
    check_frame(frame, depth);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--log", "--data", "--heap-mib",
                                         "--log-steps-back", "--self-test-corrupt", NULL };
    const char *values[6] = { NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *log_path = sc_required(values[1], names[1]);
    const char *data_path = sc_required(values[2], names[2]);
    long heap_mib = values[3] ? strtol(values[3], NULL, 10) : 64;
    if (heap_mib <= 0) {
        fprintf(stderr, "--heap-mib takes a positive number of MiB, not %s\n", values[3]);
        return 2;
    }
    char *end = NULL;
    state.log_steps_back = values[4] ? strtoul(values[4], &end, 10) : 1;
    if (values[4] && (*values[4] == '\0' || *values[4] == '-' || *end != '\0')) {
        fprintf(stderr, "--log-steps-back takes a count of restores, not %s\n", values[4]);
        return 2;
    }
    const struct corruption *corruption = find_corruption(values[5]);

    setup_memory((size_t)heap_mib);
    setup_files(log_path, data_path);
    setup_signals();
    sc_say("ready pid=%d", (int)getpid());
    descend(0, verify_file, corruption);
    return sc_verdict();
}
