package io.hotclone.journal;

import io.hotclone.image.ImageHeader;

import java.nio.file.Path;

/**
 * The epochs a journal takes: none older than the newest in it, nor than its fence
 * ({@link Journal#fence}), so that a primary a newer one replaced can neither write nor ship
 * checkpoints. Thread-safe.
 */
final class EpochFence {
    private final Path dir;
    /** The newest epoch of any checkpoint in the journal. */
    private long newest;
    /** No record or checkpoint of an older epoch is taken from now on; held in memory only. */
    private long fence;

    EpochFence(Path dir, long newest) {
        this.dir = dir;
        this.newest = newest;
    }

    /** The newest epoch in the journal, or its fence if that is newer. */
    synchronized long max() {
        return Math.max(newest, fence);
    }

    synchronized void raise(long epoch) {
        fence = Math.max(fence, epoch);
    }

    /** A checkpoint of {@code epoch} is now in the journal. */
    synchronized void saw(long epoch) {
        newest = Math.max(newest, epoch);
    }

    /** @throws JournalException if the checkpoint {@code header} begins is of an epoch this journal no longer takes */
    synchronized void checkBegin(ImageHeader header) {
        if (header.epoch() < max()) {
            throw new JournalException("checkpoint seq " + header.seq() + " has epoch " + header.epoch()
                    + " but journal " + dir + (newest >= fence ? " already holds epoch " + newest
                    : " is fenced below epoch " + fence) + ": a newer primary has taken over, so this one must stop writing");
        }
    }

    /** @throws JournalException if a record shipped from a primary is of an epoch this journal no longer takes */
    synchronized void checkShipped(RecordType type, long seq, long epoch) {
        long max = max();
        if (epoch < max) {
            throw new JournalException("a " + type.label() + " record of checkpoint seq " + seq + " shipped to journal "
                    + dir + " has epoch " + epoch + " but the journal " + (newest >= fence ? "already holds epoch "
                    + newest : "is fenced below epoch " + fence) + ": it comes from a primary that a newer one"
                    + " (epoch " + max + ") has replaced, which must stop shipping");
        }
    }
}
