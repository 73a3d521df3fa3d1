package io.hotclone.capture;

import io.hotclone.image.CheckpointKind;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;

/**
 * Keeps a journal bounded: asks for a new full checkpoint once the incremental ones since the
 * last full carry more page bytes than {@code factor} times the larger of that full, the
 * program's resident memory now and {@link #FLOOR}, and drops the journal's roll cycles before
 * each full checkpoint once it is committed. The journal then stays near the program's largest
 * resident memory times (1 + factor), plus one roll cycle.
 *
 * <p>The resident memory counts because a program that grows (its setup, typically) would
 * otherwise earn a full checkpoint soon after each growth, and a full checkpoint freezes it
 * longer than an incremental one; the floor because a small program's full checkpoints are
 * cheap to write but each one makes its standbys rebuild their hot clone.
 *
 * <p>Thread confinement: the thread that takes the checkpoints.
 */
final class Retention {
    static final long FLOOR = 64L << 20;

    private final double factor;
    private long fullBytes = -1;
    private long sinceFull;

    /** @param factor page bytes of incremental checkpoints allowed per page byte of their full base; above 0 */
    Retention(double factor) {
        if (!(factor > 0)) {
            throw new IllegalArgumentException("retention factor " + factor + " must be above 0");
        }
        this.factor = factor;
    }

    /**
     * Counts committed checkpoint {@code seq} of a program holding {@code residentBytes} now;
     * returns whether the next checkpoint should be full.
     */
    boolean committed(Journal journal, long seq, long residentBytes) {
        CheckpointSummary s = journal.checkpointsAfter(seq - 1).getFirst();
        if (s.kind() == CheckpointKind.FULL) {
            fullBytes = s.pageBytes();
            sinceFull = 0;
            journal.dropCyclesBefore(seq);
            return false;
        }
        sinceFull += s.pageBytes();
        return fullBytes >= 0 && sinceFull > factor * Math.max(FLOOR, Math.max(fullBytes, residentBytes));
    }
}
