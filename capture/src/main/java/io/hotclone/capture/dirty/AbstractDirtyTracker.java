package io.hotclone.capture.dirty;

import io.hotclone.image.MemoryArea;

import java.util.List;

/**
 * What every dirty tracker keeps the same way: the areas it tracks and those it cannot, its
 * {@link Ledger} of sets collected and pages owed, and whether it is closed.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
abstract sealed class AbstractDirtyTracker implements DirtyTracker permits UffdWpTracker, MprotectTracker {
    protected final int pid;
    protected final Ledger ledger = new Ledger();
    private List<MemoryArea> tracked = List.of();
    private List<UntrackedArea> untracked = List.of();
    private boolean closed;

    AbstractDirtyTracker(int pid) {
        this.pid = pid;
    }

    /** Makes these the areas tracked and those that cannot be; the pages owed outside them are dropped. */
    protected void areas(List<MemoryArea> nowTracked, List<UntrackedArea> nowUntracked) {
        tracked = List.copyOf(nowTracked);
        untracked = List.copyOf(nowUntracked);
        ledger.keepWithin(tracked);
    }

    @Override
    public void commit(DirtySet set) {
        ensureOpen();
        ledger.commit(set);
    }

    @Override
    public void abort(DirtySet set) {
        ensureOpen();
        ledger.abort(set);
    }

    @Override
    public List<MemoryArea> tracked() {
        return tracked;
    }

    @Override
    public List<UntrackedArea> untracked() {
        return untracked;
    }

    protected void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("dirty tracker of process " + pid + " is closed");
        }
    }

    protected boolean isClosed() {
        return closed;
    }

    /** Marks the tracker closed; false if it was already. */
    protected boolean markClosed() {
        boolean wasOpen = !closed;
        closed = true;
        return wasOpen;
    }
}
