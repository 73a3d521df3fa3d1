/* A shell pipeline of three processes, each this program in a mode of its own:
 *     sh -c 'pipeline produce | pipeline relay | pipeline consume --verify-file P'
 *   produce  writes an endless stream of 16-byte records, a 64-bit sequence number from 0 and a
 *            checksum of it, BURST records a write, as fast as the pipe takes them: the consumer
 *            sets the pace, so both pipes stay full
 *   relay    copies its stdin to its stdout in odd-sized chunks (7, 13, 29 ... bytes), so that
 *            records are split across reads and writes
 *   consume  reads RECORDS_PER_TICK records a tick: tick N once N * RECORDS_PER_TICK records are
 *            read, counting on across a restore
 * produce and relay end quietly (exit 0) on EPIPE (SIGPIPE is ignored) or end of file, once the
 * consumer has exited. The consumer checks every record, and on the verify trigger reads
 * FINAL_RECORDS more (checked alike), then prints its verdict and exits:
 *   checksum  each record's checksum is that of its sequence number (a byte lost or added
 *             misaligns every record after it)
 *   skip      no sequence number is missing: each is the one before plus 1, from 0
 *   dup       no sequence number comes again, or before its turn
 *   stream    the input neither ends nor stalls: the final records come within WAIT_SECONDS
 *
 * usage: pipeline produce
 *        pipeline relay
 *        pipeline consume --verify-file PATH [--self-test-corrupt skip|dup|checksum]
 * --self-test-corrupt breaks one piece just before verifying, to prove its check can fail: skip
 * drops a record unchecked, dup checks the last record again, checksum flips a bit of one. */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <poll.h>

#define BURST 64
#define RECORDS_PER_TICK 64
#define FINAL_RECORDS 64
#define WAIT_SECONDS 4

struct record {
    uint64_t seq, sum;
};

static uint64_t checksum(uint64_t seq)
{
    return sc_pattern(seq, 1);
}

/* ---- produce, relay ---- */

static int produce(void)
{
    struct record burst[BURST];
    for (uint64_t seq = 0;;) {
        for (int i = 0; i < BURST; i++, seq++) {
            burst[i].seq = seq;
            burst[i].sum = checksum(seq);
        }
        if (!sc_write_full(STDOUT_FILENO, burst, sizeof burst)) {
            if (errno == EPIPE)
                return 0;
            sc_die("produce: write");
        }
    }
}

static int relay(void)
{
    static const size_t chunks[] = { 7, 13, 29, 61, 127, 251, 509, 1021, 3, 45 }; /* odd: records split */
    char buf[1021];
    for (size_t k = 0;; k++) {
        ssize_t n = read(STDIN_FILENO, buf, chunks[k % (sizeof chunks / sizeof chunks[0])]);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            sc_die("relay: read");
        if (n == 0)
            return 0;
        if (!sc_write_full(STDOUT_FILENO, buf, (size_t)n)) {
            if (errno == EPIPE)
                return 0;
            sc_die("relay: write");
        }
    }
}

/* ---- consume ---- */

static const char *corruption;
static uint64_t due, records, bad_sums, skips, dups;
static uint64_t bad_sum_at, skip_from, skip_to, dup_seq, dup_due;
static struct record bad_sum_record, last;
static int ended;
static char ended_how[128];

static int corrupting(const char *kind)
{
    return corruption && strcmp(corruption, kind) == 0;
}

/* Reads the next record; 0 (for good: ended) once the input has ended, failed or stalled. */
static int take(struct record *r, int64_t deadline)
{
    if (ended)
        return 0;
    int k = sc_read_full(STDIN_FILENO, r, sizeof *r, deadline);
    if (k == 1)
        return 1;
    ended = 1;
    snprintf(ended_how, sizeof ended_how, "%s after %lu records",
            k == 0 ? "the input ended" : k == -2 ? "no record came within the time allowed" : strerror(errno),
            (unsigned long)records);
    return 0;
}

static void check(const struct record *r)
{
    records++;
    if (r->sum != checksum(r->seq)) {
        if (bad_sums++ == 0) {
            bad_sum_at = records;
            bad_sum_record = *r;
        }
        due++; /* its sequence number cannot be trusted: it takes the place of the one due */
        return;
    }
    if (r->seq > due && skips++ == 0) {
        skip_from = due;
        skip_to = r->seq;
    } else if (r->seq < due && dups++ == 0) {
        dup_seq = r->seq;
        dup_due = due;
    }
    due = r->seq + 1;
    last = *r;
}

static void tick(uint64_t t)
{
    (void)t;
    struct record r;
    for (int i = 0; i < RECORDS_PER_TICK && take(&r, 0); i++)
        check(&r);
}

static int consume(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    corruption = sc_one_of(values[1], names[1], (const char *const[]){ "skip", "dup", "checksum", NULL });

    sc_tick_until_verify(verify_file, tick);
    int64_t deadline = sc_now_nanos() + (int64_t)WAIT_SECONDS * 1000000000;
    struct record r;
    if (corrupting("skip"))
        take(&r, deadline);
    if (corrupting("dup") && records > 0)
        check(&last);
    if (corrupting("checksum") && take(&r, deadline)) {
        r.sum ^= 1;
        check(&r);
    }
    for (int i = 0; i < FINAL_RECORDS && take(&r, deadline); i++)
        check(&r);

    if (ended)
        sc_fail("stream: %s", ended_how);
    if (bad_sums)
        sc_fail("checksum: record %lu read holds %016lx and %016lx, not a sequence number and its checksum (%lu bad %s in all)",
                (unsigned long)bad_sum_at, (unsigned long)bad_sum_record.seq, (unsigned long)bad_sum_record.sum,
                (unsigned long)bad_sums, bad_sums == 1 ? "record" : "records");
    if (skips)
        sc_fail("skip: record %lu came where %lu was due (%lu %s in all)", (unsigned long)skip_to,
                (unsigned long)skip_from, (unsigned long)skips, skips == 1 ? "gap" : "gaps");
    if (dups)
        sc_fail("dup: record %lu came again where %lu was due (%lu %s in all)", (unsigned long)dup_seq,
                (unsigned long)dup_due, (unsigned long)dups, dups == 1 ? "time" : "times");
    return sc_verdict();
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "consume") == 0)
        return consume(argc - 1, argv + 1);
    if ((strcmp(mode, "produce") == 0 || strcmp(mode, "relay") == 0) && argc == 2) {
        signal(SIGPIPE, SIG_IGN); /* the consumer's exit is EPIPE: the end, quietly */
        return strcmp(mode, "produce") == 0 ? produce() : relay();
    }
    fprintf(stderr, "usage: %s produce | relay | consume --verify-file PATH [--self-test-corrupt skip|dup|checksum]\n",
            argv[0]);
    return 2;
}
