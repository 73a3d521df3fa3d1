package io.hotclone.capture;

import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.dirty.DirtyTracker;
import io.hotclone.capture.dirty.PageRange;
import io.hotclone.capture.dirty.StopServer;
import io.hotclone.capture.memory.PageDumper;
import io.hotclone.image.MemoryArea;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What the {@link Chain} keeps of one process of the program from one checkpoint to the next:
 * the areas it had at the last committed one, its dirty tracker, its page dumper and the
 * address space they were made for. A process first seen, or one that ran another program
 * since, has none of them: its part of the next checkpoint is whole.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
final class ProcessChain implements AutoCloseable {
    private final int pid;
    private Map<Long, MemoryArea> areas = Map.of();
    private DirtyTracker tracker;
    private PageDumper dumper;
    /** The process's address space that the tracker and dumper were made for. */
    private AddressSpace space;

    ProcessChain(int pid) {
        this.pid = pid;
    }

    int pid() {
        return pid;
    }

    /** Whether this process's part of the next checkpoint can be incremental, given a committed one to build on. */
    boolean canBuildOn() {
        return !areas.isEmpty() && tracker != null;
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

    /** What the tracker asks the process's lifelong tracer to serve at its stops. */
    StopServer stops() {
        return tracker != null ? tracker.stops() : StopServer.NONE;
    }

    /** The start addresses of the areas the tracker cannot watch, which a checkpoint carries whole. */
    Set<Long> untracked() {
        return tracker.untracked().stream().map(u -> u.area().start()).collect(Collectors.toSet());
    }

    /** Tracking broke: the next checkpoint carries this process whole and arms a new tracker. */
    void dropTracker() {
        if (tracker != null) {
            tracker.close();
            tracker = null;
        }
    }

    /** Whether the chain followed this process at an earlier checkpoint. */
    boolean seen() {
        return space != null;
    }

    /**
     * At the barrier, before anything is read: whether the process still has the address space
     * the chain was built on. After an exec it has a new one, on which the tracker, the dumper and
     * the last checkpoint's areas tell nothing: they are dropped, and the process is carried whole.
     *
     * @return false if the process is new to the chain or ran another program since the last checkpoint
     */
    boolean follow() {
        if (space != null && space.current()) {
            return true;
        }
        if (space != null) {
            space.close();
            dropTracker();
            if (dumper != null) {
                dumper.close();
                dumper = null;
            }
            areas = Map.of();
        }
        space = new AddressSpace(pid);
        return false;
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

    void committed(List<MemoryArea> committedAreas) {
        Map<Long, MemoryArea> byStart = new TreeMap<>(Long::compareUnsigned);
        committedAreas.forEach(a -> byStart.put(a.start(), a));
        areas = byStart;
    }

    /**
     * The most page bytes incremental checkpoint {@code seq} can carry of this process: its
     * written pages, plus whole every area it carries whole (new, grown or untracked; PROT_NONE
     * reservations left out, since they hold no pages to speak of).
     */
    long pagesBound(List<MemoryArea> now, long seq, DirtySet dirty, Set<Long> untracked) {
        long bound = dirty.pages() * PageRange.PAGE;
        for (MemoryArea a : now) {
            if (!a.hasContents() || a.prot() == 0) {
                continue;
            }
            MemoryArea before = a.sinceSeq() < seq ? areas.get(a.start()) : null;
            if (before == null || untracked.contains(a.start())) {
                bound += a.length();
            } else if (a.end() > before.end()) {
                bound += a.end() - before.end();
            }
        }
        return bound;
    }

    /**
     * The process's page dumper, kept from one checkpoint to the next: its buffer is then
     * allocated and faulted in already, which under the freeze of a small checkpoint is most of
     * the cost (a first touch costs ~13 us a page here, 8 MiB of buffer ~27 ms).
     */
    PageDumper dumper() {
        if (dumper == null) {
            dumper = new PageDumper(pid);
        }
        return dumper;
    }

    @Override
    public void close() {
        if (dumper != null) {
            dumper.close();
        }
        dropTracker();
        if (space != null) {
            space.close();
        }
    }
}
