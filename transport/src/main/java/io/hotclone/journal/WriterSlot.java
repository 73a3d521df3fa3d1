package io.hotclone.journal;

import java.nio.file.Path;

/**
 * Who writes a journal: one checkpoint writer or one replica writer at a time, and only in a
 * journal opened for writing. A journal that began a checkpoint of its own takes no replica
 * writer until reopened: the index a replica writer carries on is the opening scan's, which did
 * not see that checkpoint. Thread-safe.
 */
final class WriterSlot {
    private final Path dir;
    private final boolean writable;
    private Lease held;
    /** Whether a checkpoint began here since opening. */
    private boolean begun;
    /** Whether a checkpoint ended uncommitted since the last one began: a failed append may have left the queue locked. */
    private boolean abandoned;

    WriterSlot(Path dir, boolean writable) {
        this.dir = dir;
        this.writable = writable;
    }

    /** @throws IllegalStateException if a checkpoint writer cannot be taken now */
    synchronized void checkCheckpointFree() {
        if (!writable) {
            throw new IllegalStateException("journal " + dir + " was opened for reading: use Journal.create to write");
        }
        if (held != null && held.checkpoint) {
            throw new IllegalStateException("a checkpoint is still being written to journal " + dir
                    + ": commit or close its writer first");
        }
        if (held != null) {
            throw new IllegalStateException("journal " + dir + " is a replica being written by its primary:"
                    + " close its replica writer before writing checkpoints of its own");
        }
    }

    /** Takes the slot for a checkpoint writer; {@link Lease#afterAbandoned} says whether one was abandoned before. */
    synchronized Lease takeForCheckpoint() {
        checkCheckpointFree();
        held = new Lease(true, abandoned);
        abandoned = false;
        return held;
    }

    /** A checkpoint writer now writes here: its header is in the journal. */
    synchronized void begun() {
        begun = true;
    }

    /** Takes the slot for a replica writer. @throws IllegalStateException if it cannot be taken now */
    synchronized Lease takeForReplica() {
        if (!writable) {
            throw new IllegalStateException("journal " + dir + " was opened for reading: use Journal.create to replicate into it");
        }
        if (held != null || begun) {
            throw new IllegalStateException("journal " + dir + " has " + (held == null
                    ? "had checkpoints of its own written since it was opened: reopen it to replicate into it"
                    : "a writer open: close it first"));
        }
        held = new Lease(false, false);
        return held;
    }

    /** One writer's hold on the slot, given back once. */
    final class Lease {
        private final boolean checkpoint;
        private final boolean afterAbandoned;

        private Lease(boolean checkpoint, boolean afterAbandoned) {
            this.checkpoint = checkpoint;
            this.afterAbandoned = afterAbandoned;
        }

        /** Whether a checkpoint was abandoned before this one (see {@link JournalQueue#freeLocks}). */
        boolean afterAbandoned() {
            return afterAbandoned;
        }

        /** Gives the slot back after a commit. */
        void committed() {
            synchronized (WriterSlot.this) {
                if (held == this) {
                    held = null;
                }
            }
        }

        /** Gives the slot back without a commit: a checkpoint writer's checkpoint is then abandoned. */
        void released() {
            synchronized (WriterSlot.this) {
                if (held == this) {
                    held = null;
                    abandoned |= checkpoint;
                }
            }
        }
    }
}
