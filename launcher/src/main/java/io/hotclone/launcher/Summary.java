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
        lastFailure = null;
    }

    @Override
    public void checkpointFailed(HotcloneException failure) {
        failed++;
        if (!failure.getMessage().equals(lastFailure)) {
            LOG.warn("checkpoint failed, the program runs on unprotected: {}", failure.getMessage());
            lastFailure = failure.getMessage();
        }
    }

    @Override
    public String toString() {
        return taken + " checkpoints (last seq " + lastSeq + ", freeze mean " + (taken == 0 ? 0 : freezeTotal / taken)
                + " us, max " + freezeMax + " us), " + failed + " failed";
    }
}
