package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.JournalFailure;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.capture.Uncapturable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Counts a protected program's checkpoints: their freezes, the failed ones by what failed (the
 * program logs each failure itself), and the longest time the program ran without a committed one.
 */
final class Summary implements ProtectedProgram.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Summary.class);

    /** What failed, as the summary groups failures: the last reason of each is shown. */
    private static String kind(HotcloneException failure) {
        return switch (failure) {
            case JournalFailure j -> "journal";
            case Uncapturable u -> "program";
            default -> "capture";
        };
    }

    /** Failures of one kind: how many, and the last one's reason. */
    private record Failed(long count, String last) {
    }

    private final LongSupplier clock;
    private long lastCommitNanos;
    private long longestUnprotectedNanos;
    private final Map<String, Failed> failures = new LinkedHashMap<>();
    private long taken;
    private long failed;
    private long lastSeq;
    private long freezeTotal;
    private long freezeMax;
    /** Freezes by 100 us step, up to 1 s (the last counts every longer one): percentiles for days of checkpoints in 80 KB. */
    private final long[] freezes = new long[10_001];

    Summary() {
        this(System::nanoTime);
    }

    /** @param clock nanoseconds, as System.nanoTime counts them */
    Summary(LongSupplier clock) {
        this.clock = clock;
        lastCommitNanos = clock.getAsLong();
    }

    @Override
    public void checkpointed(Checkpointer.Result r) {
        if (taken == 0) {
            LOG.info("first checkpoint seq={}: {} pages, frozen {} us", r.seq(), r.pages(), r.freezeMicros());
        }
        taken++;
        lastSeq = r.seq();
        freezeTotal += r.freezeMicros();
        freezeMax = Math.max(freezeMax, r.freezeMicros());
        freezes[(int) Math.min(freezes.length - 1, r.freezeMicros() / 100)]++;
        long now = clock.getAsLong();
        longestUnprotectedNanos = Math.max(longestUnprotectedNanos, now - lastCommitNanos);
        lastCommitNanos = now;
    }

    @Override
    public void checkpointFailed(HotcloneException failure) {
        failed++;
        failures.merge(kind(failure), new Failed(1, failure.getMessage()),
                (before, now) -> new Failed(before.count() + 1, now.last()));
    }

    /** The freeze that {@code p} percent of checkpoints stayed within, rounded up to 100 us. */
    private long freezePercentile(int p) {
        long rank = Math.max(1, (long) Math.ceil(p / 100.0 * taken));
        long seen = 0;
        for (int i = 0; i < freezes.length; i++) {
            seen += freezes[i];
            if (seen >= rank) {
                return Math.min(freezeMax, (i + 1) * 100L);
            }
        }
        return freezeMax;
    }

    /** Ends with the failures by kind and the longest time without a committed checkpoint, if any failed. */
    @Override
    public String toString() {
        String counts = taken == 0 ? "no checkpoint, " + failed + " failed"
                : taken + " checkpoints (last seq " + lastSeq + "; freeze mean " + freezeTotal / taken + " us, median "
                + freezePercentile(50) + " us, p99 " + freezePercentile(99) + " us, max " + freezeMax + " us), "
                + failed + " failed";
        if (failed == 0) {
            return counts;
        }
        long longest = Math.max(longestUnprotectedNanos, clock.getAsLong() - lastCommitNanos);
        return counts + " (" + failures.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue().count() + ", last: " + e.getValue().last())
                .collect(Collectors.joining("; ")) + "); longest without a committed checkpoint "
                + longest / 1_000_000 + " ms";
    }
}
