package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.replication.AckPolicy;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How a primary protects its program: the options of {@code run}, and of {@code standby} for after a switch. */
final class ProtectionOptions {
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

    @Option(names = "--journal", required = true, paramLabel = "DIR",
            description = "Journal directory; created if missing, appended to if it exists. One writer at a time: a "
                    + "journal another hotclone is writing is refused, naming it (pid, host, command, since when).")
    Path journal;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "100ms",
            description = "Time between checkpoints: 100ms, 2s, 1m (default: ${DEFAULT-VALUE}).")
    String interval;

    /** How written pages are found between checkpoints, as operators write it. */
    enum DirtyTracking {
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

    @Option(names = "--retention", paramLabel = "FACTOR", defaultValue = "1.0",
            description = "Keeps the journal bounded: once the incremental checkpoints since the last full one carry "
                    + "FACTOR times the program's size (the larger of that full checkpoint, its resident memory now and "
                    + "64 MiB), the next checkpoint is full, and the journal's five-minute files before a committed full "
                    + "checkpoint are deleted (on a standby too). The journal stays near the program's resident memory "
                    + "times (1 + FACTOR), at least 64 MiB times FACTOR, plus five minutes of checkpoints "
                    + "(default: ${DEFAULT-VALUE}).")
    double retention;

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

    Duration every() {
        return parse("--checkpoint-interval", interval);
    }

    Tracking tracking() {
        return tracking.tracking;
    }

    /** 100ms, 2s, 1m, as a Duration; {@code option} names the option in the error. */
    static Duration parse(String option, String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new HotcloneException(option + " " + text + " is not a duration: write it as 100ms, 2s or 1m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }
}
