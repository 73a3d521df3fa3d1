package io.hotclone.journal;

import io.hotclone.journal.JournalScan.Entry;

import java.util.Optional;

/**
 * Keeps a replica's index live: carries the journal's opening scan on over each record a
 * {@link ReplicaWriter} appends, so that a checkpoint is readable once its commit is in.
 * Thread-safe.
 */
final class ReplicaIndexer {
    /** The opening scan, which only this carries on. */
    private final JournalScan scan;
    private final JournalIndex index;
    private final EpochFence epochs;

    ReplicaIndexer(JournalScan scan, JournalIndex index, EpochFence epochs) {
        this.scan = scan;
        this.index = index;
        this.epochs = epochs;
    }

    /** Indexes a record just appended; returns the checkpoint it committed, if it did. */
    synchronized Optional<CheckpointMark> accept(Envelope.Stored r) {
        int before = scan.committed.size();
        scan.accept(r);
        epochs.saw(scan.maxEpoch);
        index.follow(scan);
        if (scan.committed.size() == before) {
            return Optional.empty();
        }
        Entry entry = scan.committed.getLast();
        index.add(entry);
        return Optional.of(entry.mark());
    }

    /** The header of the checkpoint the journal was left inside, if it ends without its commit. */
    synchronized Optional<CheckpointMark> tornHeader() {
        return scan.tornHeader();
    }
}
