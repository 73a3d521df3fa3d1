package io.hotclone.launcher;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.replication.AckPolicy;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/** How a primary protects its program: the options of {@code run}, and of {@code standby} for after a switch. */
public final class ProtectionOptions {
    @Option(names = "--journal", required = true, paramLabel = "DIR",
            description = "Journal directory; created if missing, appended to if it exists. One writer at a time: a "
                    + "journal another hotclone is writing is refused, naming it (pid, host, command, since when).")
    Path journal;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "100ms",
            converter = Values.Period.class,
            description = "Time between checkpoints: 100ms, 2s, 1m (default: ${DEFAULT-VALUE}).")
    Duration interval;

    /** How written pages are found between checkpoints, as operators write it. */
    public enum DirtyTracking {
        uffd(Tracking.UFFD), mprotect(Tracking.MPROTECT), none(Tracking.NONE);

        final Tracking tracking;

        DirtyTracking(Tracking tracking) {
            this.tracking = tracking;
        }
    }

    @Option(names = "--dirty-tracking", paramLabel = "MODE", defaultValue = "uffd",
            description = "How checkpoints after the first find the pages written since the last one, so that they "
                    + "carry only those. uffd: userfaultfd write-protect read with PAGEMAP_SCAN; the program runs "
                    + "untraced between checkpoints (needs Linux 6.7+). mprotect: the fallback for older kernels: "
                    + "written pages are found by page protection, each first write costs a SIGSEGV served by "
                    + "hotclone, and the program is traced and stops at every system call. none: every checkpoint "
                    + "is full (default: ${DEFAULT-VALUE}).")
    DirtyTracking tracking;

    @Option(names = "--retention", paramLabel = "FACTOR", defaultValue = "1.0", converter = Values.Factor.class,
            description = "Keeps the journal bounded: once the incremental checkpoints since the last full one carry "
                    + "FACTOR times the program's size (the larger of that full checkpoint, its resident memory now and "
                    + "64 MiB), the next checkpoint is full, and the journal's five-minute files before a committed full "
                    + "checkpoint are deleted (on a standby too). The journal stays near the program's resident memory "
                    + "times (1 + FACTOR), at least 64 MiB times FACTOR, plus five minutes of checkpoints "
                    + "(default: ${DEFAULT-VALUE}).")
    double retention;

    @Option(names = "--journal-failure-limit", paramLabel = "DURATION", defaultValue = "60s",
            converter = Values.Period.class,
            description = "How long the journal may fail to take checkpoints (its disk full or read-only, an I/O "
                    + "error) before protection ends: until then each failed checkpoint is logged and tried again, "
                    + "and protection resumes once the journal is writable; past it hotclone kills the program, "
                    + "rather than run it on unprotected, and exits with status 74: 100ms, 30s, 5m "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration journalFailureLimit;

    /** Acknowledgement policies as operators write them. */
    enum Ack {
        all(AckPolicy.ALL), one(AckPolicy.ONE);

        final AckPolicy policy;

        Ack(AckPolicy policy) {
            this.policy = policy;
        }
    }

    @Option(names = "--ack", paramLabel = "POLICY", defaultValue = "all",
            description = "When a checkpoint counts as replicated: all: every standby holds it; one: at least one "
                    + "does (default: ${DEFAULT-VALUE}).")
    Ack ack;

    Tracking tracking() {
        return tracking.tracking;
    }
}
