package io.hotclone.capture;

import io.hotclone.capture.dirty.DirtyTracker;
import io.hotclone.capture.memory.PageStage;
import io.hotclone.journal.PageSink;
import io.hotclone.image.MemoryArea;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The checkpoints of one protected program so far, which an incremental checkpoint builds on:
 * the last committed one's seq and areas, and the dirty tracker armed since the first full one.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
public final class Chain implements AutoCloseable {
    /** Pages held in memory per checkpoint before the rest is written under the freeze. */
    private static final long STAGE_LIMIT = 128L << 20;

    private long seq = -1;
    private Map<Long, MemoryArea> areas = Map.of();
    private DirtyTracker tracker;
    private final PageStage stage = new PageStage(STAGE_LIMIT);

    /** Whether the next checkpoint can be incremental. */
    boolean canBuildOn() {
        return seq != -1 && tracker != null;
    }

    long seq() {
        return seq;
    }

    /** The areas of the last committed checkpoint, by start address. */
    Map<Long, MemoryArea> areas() {
        return areas;
    }

    DirtyTracker tracker() {
        return tracker;
    }

    void tracker(DirtyTracker armed) {
        tracker = armed;
    }

    /** Tracking broke: the next checkpoint is full and arms a new tracker. */
    void dropTracker() {
        if (tracker != null) {
            tracker.close();
            tracker = null;
        }
    }

    /**
     * Each area that is the same mapping as one of the last checkpoint (same start, kind, file
     * and sharing) keeps the seq its contents count from; the others count from now.
     */
    List<MemoryArea> continued(List<MemoryArea> now) {
        return now.stream().map(a -> {
            MemoryArea before = areas.get(a.start());
            boolean same = before != null && before.kind() == a.kind() && before.shared() == a.shared()
                    && before.path().equals(a.path()) && before.offset() == a.offset();
            return same ? a.since(before.sinceSeq()) : a;
        }).toList();
    }

    void committed(long committedSeq, List<MemoryArea> committedAreas) {
        seq = committedSeq;
        Map<Long, MemoryArea> byStart = new TreeMap<>(Long::compareUnsigned);
        committedAreas.forEach(a -> byStart.put(a.start(), a));
        areas = byStart;
    }

    /** The stage, begun for a checkpoint whose pages go to {@code target}. */
    PageSink stage(PageSink target) {
        stage.begin(target);
        return stage;
    }

    void drainStage() {
        stage.drain();
    }

    @Override
    public void close() {
        dropTracker();
        stage.close();
    }
}
