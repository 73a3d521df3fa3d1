package io.hotclone.capture.dirty;

import io.hotclone.image.MemoryArea;

import java.util.ArrayList;
import java.util.List;

/**
 * A tracker's account of dirty pages between collects: the pages that join the next collect
 * whatever the kernel says (areas armed since, sets given back by a failed checkpoint), and the
 * sets collected and not yet committed or aborted. Not thread-safe.
 */
final class Ledger {
    private final List<DirtySet> outstanding = new ArrayList<>();
    private DirtySet pending = DirtySet.empty();

    /** Adds {@code pages} to the next collect. */
    void owe(DirtySet pages) {
        pending = pending.union(pages);
    }

    /** Keeps only what of the pages owed lies in {@code areas}' ranges. */
    void keepWithin(List<MemoryArea> areas) {
        pending = pending.within(areas);
    }

    /** At a collect: {@code found} and every page owed, within {@code areas}; outstanding until settled. */
    DirtySet collect(DirtySet found, List<MemoryArea> areas) {
        DirtySet set = pending.union(found).within(areas);
        pending = DirtySet.empty();
        outstanding.add(set);
        return set;
    }

    /** The checkpoint holding {@code set} is committed. */
    void commit(DirtySet set) {
        settle(set);
    }

    /** The checkpoint holding {@code set} failed: its pages join the next collect. */
    void abort(DirtySet set) {
        settle(set);
        owe(set);
    }

    private void settle(DirtySet set) {
        if (!outstanding.remove(set)) {
            throw new IllegalArgumentException("not a dirty set collected and still outstanding: " + set.ranges().size()
                    + " ranges, " + set.pages() + " pages");
        }
    }
}
