package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

/**
 * The checkpoints of a protected program that failed since its last committed one: when to try
 * again (100 ms, doubling to 3.2 s, so that a lasting failure is neither hammered nor left
 * untried for long), how long the program has run unprotected, and whether the journal has
 * failed for longer than the run allows.
 *
 * <p>Thread-safe: the tracer takes the checkpoints, the schedule asks when the next is due.
 */
final class Failures {
    static final long FIRST_RETRY_NANOS = 100_000_000L;
    /** The longest wait between two tries: {@link #FIRST_RETRY_NANOS} doubled five times. */
    static final int DOUBLINGS = 5;

    /** One failed checkpoint, as the log tells it. */
    record Failed(int inRow, long unprotectedNanos, long retryNanos, boolean overLimit) {
    }

    private final long limitNanos;
    private long lastCommitNanos;
    private int inRow;
    /** When the journal began failing, while it fails; -1 otherwise. */
    private long journalSinceNanos = -1;
    private boolean refused;

    /** @param limitNanos how long the journal may fail before protection ends */
    Failures(long limitNanos, long startNanos) {
        this.limitNanos = limitNanos;
        this.lastCommitNanos = startNanos;
    }

    /**
     * A checkpoint was committed at {@code now}.
     *
     * @return how long the program ran without one, if checkpoints had failed since the last; else -1
     */
    synchronized long committed(long now) {
        long unprotected = inRow > 0 ? now - lastCommitNanos : -1;
        lastCommitNanos = now;
        inRow = 0;
        journalSinceNanos = -1;
        refused = false;
        return unprotected;
    }

    /** A checkpoint failed at {@code now} with {@code failure}. */
    synchronized Failed failed(HotcloneException failure, long now) {
        inRow++;
        refused = failure instanceof Uncapturable;
        if (failure instanceof JournalFailure && journalSinceNanos < 0) {
            journalSinceNanos = now;
        }
        boolean over = failure instanceof JournalFailure && now - journalSinceNanos >= limitNanos;
        return new Failed(inRow, now - lastCommitNanos, retryNanos(), over);
    }

    /** The checkpoints that failed since the last committed one. */
    synchronized int inRow() {
        return inRow;
    }

    /** How long after the last checkpoint to try the next: 0 if it was committed (the interval decides). */
    synchronized long retryNanos() {
        return inRow == 0 ? 0 : FIRST_RETRY_NANOS << Math.min(inRow - 1, DOUBLINGS);
    }

    /** Whether the last checkpoint failed because the program could not be captured as it was. */
    synchronized boolean refused() {
        return refused;
    }
}
