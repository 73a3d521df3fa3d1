/* System V IPC in the program's IPC namespace: shared memory segments, a semaphore set and a
 * message queue, with a child that shares a segment. At its start the program makes an IPC
 * namespace of its own (unshare(CLONE_NEWIPC)), so that a plain run leaves nothing behind on the
 * node; under hotclone it is the namespace hotclone keeps. It makes:
 *   - segment A (key KEY_A, 3 pages + 100 bytes, mode 0640), attached; the parent writes one of its
 *     words a tick, and a child (forked once, dying with its parent) attached through fork copies
 *     the parent's generation word into its own slot about every 10 ms
 *   - segment B (IPC_PRIVATE, 2 pages), filled with a pattern and detached: no process maps it
 *   - segment C (IPC_PRIVATE, 1 page), attached read-only at a second address, then removed
 *     (IPC_RMID): it lives on while attached, marked for destruction
 *   - a set of 3 semaphores (key KEY_S), their values changed every tick
 *   - a message queue (key KEY_Q, mode 0600, its byte limit set to 12345): every tick one message
 *     is sent (type 1 + tick % 3, tick % 50 + 1 bytes) and, once 5 wait, the oldest received
 * Pieces checked on the verify trigger:
 *   ids       each keyed object is found again by its key under the id it was made with
 *   shm       segment A holds every word the parent wrote; raised by the parent at verify, the
 *             generation reaches the child's slot within WAIT_SECONDS (one memory for both)
 *   detached  segment B, attached again, holds its pattern
 *   dest      segment C is still mapped with its pattern, and IPC_STAT of its id shows SHM_DEST
 *   sem       each semaphore holds the value the last tick set
 *   msg       the queue holds the messages sent and not received, in order, types and bytes
 *   perms     the queue's mode is 0600 and its byte limit 12345; segment A's mode is 0640
 *
 * usage: sysvipc --verify-file PATH [--self-test-corrupt KIND]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail:
 *   ids       segment A's recorded id is altered
 *   shm       the parent's record of one word it wrote is altered
 *   detached  segment B's expected pattern is altered
 *   dest      segment C's expected pattern is altered
 *   sem       the expected value of the second semaphore is altered
 *   msg       the expected type of the oldest waiting message is altered
 *   perms     the expected byte limit is altered */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define PAGE 4096
#define KEY_A 0x48430001
#define KEY_S 0x48430002
#define KEY_Q 0x48430003
#define SIZE_A (3 * PAGE + 100)
#define SIZE_B (2 * PAGE)
#define SEMS 3
#define QBYTES 12345
#define WAITING 5
#define KEPT 64
#define WAIT_SECONDS 4
#define PASS_NANOS 10000000L

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* The head of segment A; the rest are words the parent writes. */
struct control {
    _Atomic uint64_t generation;
    _Atomic uint64_t seen;
};

struct message {
    long type;
    char text[64];
};

static const char *corruption;
static int id_a, id_b, id_c, id_s, id_q;
static struct control *control;
static uint64_t *words_a;
static size_t count_a;
static uint64_t expected_a[(SIZE_A - sizeof(struct control)) / 8];
static const uint64_t *c_mapped;
static unsigned short expected_sem[SEMS];
static uint64_t sent, received;
static uint64_t pattern_b = 11, pattern_c = 13;
static long expected_qbytes = QBYTES;

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

/* The message sent at number n: type 1 + n % 3, n % 50 + 1 bytes of a pattern. */
static size_t message(uint64_t n, struct message *m)
{
    size_t length = n % 50 + 1;
    m->type = 1 + (long)(n % 3);
    for (size_t i = 0; i < length; i++)
        m->text[i] = (char)(n * 31 + i);
    return length;
}

static void fill(uint64_t *words, size_t count, uint64_t generation)
{
    for (size_t i = 0; i < count; i++)
        words[i] = sc_pattern(i, generation);
}

static void child_loop(void)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        atomic_store(&control->seen, atomic_load(&control->generation));
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
}

static void start(void)
{
    if (unshare(CLONE_NEWIPC) != 0)
        sc_die("unshare(CLONE_NEWIPC)");
    id_a = shmget(KEY_A, SIZE_A, IPC_CREAT | IPC_EXCL | 0640);
    id_b = shmget(IPC_PRIVATE, SIZE_B, IPC_CREAT | 0600);
    id_c = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    id_s = semget(KEY_S, SEMS, IPC_CREAT | IPC_EXCL | 0600);
    id_q = msgget(KEY_Q, IPC_CREAT | IPC_EXCL | 0600);
    if (id_a < 0 || id_b < 0 || id_c < 0 || id_s < 0 || id_q < 0)
        sc_die("shmget/semget/msgget");

    void *a = shmat(id_a, NULL, 0);
    uint64_t *b = shmat(id_b, NULL, 0);
    uint64_t *c = shmat(id_c, NULL, 0);
    if (a == (void *)-1 || b == (void *)-1 || c == (void *)-1)
        sc_die("shmat");
    control = a;
    words_a = (uint64_t *)((char *)a + sizeof(struct control));
    count_a = (SIZE_A - sizeof(struct control)) / 8;
    fill(b, SIZE_B / 8, pattern_b);
    fill(c, PAGE / 8, pattern_c);
    if (shmdt(b) != 0)
        sc_die("shmdt(B)");
    c_mapped = shmat(id_c, NULL, SHM_RDONLY);
    if (c_mapped == (void *)-1 || shmdt(c) != 0)
        sc_die("shmat(C, SHM_RDONLY)");
    if (shmctl(id_c, IPC_RMID, NULL) != 0)
        sc_die("shmctl(C, IPC_RMID)");

    struct msqid_ds q;
    if (msgctl(id_q, IPC_STAT, &q) != 0)
        sc_die("msgctl(IPC_STAT)");
    q.msg_qbytes = QBYTES;
    if (msgctl(id_q, IPC_SET, &q) != 0)
        sc_die("msgctl(IPC_SET)");

    pid_t pid = fork();
    if (pid < 0)
        sc_die("fork");
    if (pid == 0)
        child_loop();
}

static void tick(uint64_t t)
{
    size_t i = (size_t)(t * 37) % count_a;
    words_a[i] = sc_pattern(i, t);
    expected_a[i] = words_a[i];

    for (int s = 0; s < SEMS; s++)
        expected_sem[s] = (unsigned short)((t * (s + 2) + s) % 1000);
    if (semctl(id_s, 0, SETALL, (union semun){ .array = expected_sem }) != 0)
        sc_die("semctl(SETALL)");

    struct message m;
    size_t length = message(sent, &m);
    if (msgsnd(id_q, &m, length, IPC_NOWAIT) != 0)
        sc_die("msgsnd");
    sent++;
    if (sent - received > WAITING) {
        if (msgrcv(id_q, &m, sizeof m.text, 0, IPC_NOWAIT) < 0)
            sc_die("msgrcv");
        received++;
    }
}

static void check_pattern(const uint64_t *words, size_t count, uint64_t generation, const char *what)
{
    for (size_t i = 0; i < count; i++) {
        if (words[i] != sc_pattern(i, generation)) {
            sc_fail("%s: word %zu is %016lx, expected %016lx", what, i, (unsigned long)words[i],
                    (unsigned long)sc_pattern(i, generation));
            return;
        }
    }
}

static void verify(void)
{
    int made_a = corrupting("ids") ? id_a + 1 : id_a;
    if (corrupting("shm"))
        expected_a[count_a / 2] ^= 1;
    if (corrupting("detached"))
        pattern_b++;
    if (corrupting("dest"))
        pattern_c++;
    if (corrupting("sem"))
        expected_sem[1]++;
    if (corrupting("perms"))
        expected_qbytes++;

    int a = shmget(KEY_A, 0, 0), s = semget(KEY_S, 0, 0), q = msgget(KEY_Q, 0);
    if (a != made_a || s != id_s || q != id_q)
        sc_fail("ids: by their keys segment A is id %d (made as %d), the semaphores %d (%d), the queue %d (%d)", a,
                made_a, s, id_s, q, id_q);

    for (size_t i = 0; i < count_a; i++) {
        if (words_a[i] != expected_a[i]) {
            sc_fail("shm: word %zu of segment A is %016lx, expected %016lx", i, (unsigned long)words_a[i],
                    (unsigned long)expected_a[i]);
            break;
        }
    }
    uint64_t generation = atomic_load(&control->generation) + 1;
    atomic_store(&control->generation, generation);
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    while (atomic_load(&control->seen) != generation && sc_now_nanos() < deadline) {
        struct timespec ts = { 0, PASS_NANOS };
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&control->seen) != generation)
        sc_fail("shm: the child's slot in segment A shows generation %lu, not %lu, after %d s",
                (unsigned long)atomic_load(&control->seen), (unsigned long)generation, WAIT_SECONDS);

    uint64_t *b = shmat(id_b, NULL, SHM_RDONLY);
    if (b == (void *)-1)
        sc_fail("detached: shmat of segment B (id %d): %s", id_b, strerror(errno));
    else
        check_pattern(b, SIZE_B / 8, pattern_b, "detached");

    check_pattern(c_mapped, PAGE / 8, pattern_c, "dest");
    struct shmid_ds ds;
    if (shmctl(id_c, IPC_STAT, &ds) != 0)
        sc_fail("dest: IPC_STAT of segment C (id %d): %s", id_c, strerror(errno));
    else if (!(ds.shm_perm.mode & SHM_DEST))
        sc_fail("dest: segment C (id %d) is not marked for destruction: mode %o", id_c, ds.shm_perm.mode);

    unsigned short values[SEMS];
    if (semctl(id_s, 0, GETALL, (union semun){ .array = values }) != 0)
        sc_fail("sem: GETALL: %s", strerror(errno));
    else
        for (int i = 0; i < SEMS; i++)
            if (values[i] != expected_sem[i])
                sc_fail("sem: semaphore %d holds %u, expected %u", i, values[i], expected_sem[i]);

    struct msqid_ds qs;
    if (msgctl(id_q, IPC_STAT, &qs) != 0)
        sc_fail("perms: IPC_STAT of the queue: %s", strerror(errno));
    else if ((qs.msg_perm.mode & 0777) != 0600 || (long)qs.msg_qbytes != expected_qbytes)
        sc_fail("perms: the queue's mode is %o and its byte limit %lu, expected 600 and %ld",
                qs.msg_perm.mode & 0777, (unsigned long)qs.msg_qbytes, expected_qbytes);
    struct shmid_ds as;
    if (shmctl(id_a, IPC_STAT, &as) == 0 && (as.shm_perm.mode & 0777) != 0640)
        sc_fail("perms: segment A's mode is %o, expected 640", as.shm_perm.mode & 0777);

    int in_order = 1;
    for (uint64_t n = received; n < sent && in_order; n++) {
        struct message want, got;
        size_t length = message(n, &want);
        if (corrupting("msg") && n == received)
            want.type = want.type % 3 + 1;
        ssize_t r = msgrcv(id_q, &got, sizeof got.text, 0, IPC_NOWAIT);
        if (r < 0) {
            sc_fail("msg: message %lu of %lu to %lu is missing: %s", (unsigned long)n, (unsigned long)received,
                    (unsigned long)sent - 1, strerror(errno));
            in_order = 0;
        }
        if ((size_t)r != length || got.type != want.type || memcmp(got.text, want.text, length) != 0) {
            sc_fail("msg: message %lu is type %ld of %zd bytes, expected type %ld of %zu bytes", (unsigned long)n,
                    got.type, r, want.type, length);
            in_order = 0;
        }
    }
    struct message extra;
    if (in_order && msgrcv(id_q, &extra, sizeof extra.text, 0, IPC_NOWAIT) >= 0)
        sc_fail("msg: a message of type %ld waits beyond the %lu sent", extra.type, (unsigned long)sent);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1],
                           (const char *const[]){ "ids", "shm", "detached", "dest", "sem", "msg", "perms", NULL });

    start();
    sc_tick_until_verify(verify_file, tick);
    verify();
    return sc_verdict();
}
