package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Counts a protected program's checkpoints, and says once, not ten times a second, what keeps failing. */
final class Summary implements ProtectedProgram.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Summary.class);

    private long taken;
    private long failed;
    private long lastSeq;
    private long freezeTotal;
    private long freezeMax;
    /** Freezes by 100 us step, up to 1 s (the last counts every longer one): percentiles for days of checkpoints in 80 KB. */
    private final long[] freezes = new long[10_001];
    private String lastFailure;

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
        lastFailure = null;
    }

    @Override
    public void checkpointFailed(HotcloneException failure) {
        failed++;
        if (!failure.getMessage().equals(lastFailure)) {
            LOG.warn("checkpoint failed (the program runs on; the next checkpoint is tried as scheduled): {}", failure.getMessage());
            lastFailure = failure.getMessage();
        }
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

    @Override
    public String toString() {
        if (taken == 0) {
            return "no checkpoint, " + failed + " failed";
        }
        return taken + " checkpoints (last seq " + lastSeq + "; freeze mean " + freezeTotal / taken + " us, median "
                + freezePercentile(50) + " us, p99 " + freezePercentile(99) + " us, max " + freezeMax + " us), "
                + failed + " failed";
    }
}
