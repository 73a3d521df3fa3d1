package io.hotclone.capture;

import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.dirty.DirtyTracker;
import io.hotclone.capture.dirty.PageRange;
import io.hotclone.capture.dirty.StopServer;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.capture.memory.PageDumper;
import io.hotclone.capture.memory.PageStage;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.PageSink;
import io.hotclone.image.MemoryArea;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_wait4;
import static io.hotclone.bindings.linux.Wait.WNOHANG;
import static io.hotclone.bindings.linux.Wait.__WALL;

/**
 * The checkpoints of one protected program so far, which an incremental checkpoint builds on:
 * the last committed one's seq and areas, and the dirty tracker armed since the first full one.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
public final class Chain implements AutoCloseable {
    /** Incremental checkpoints up to this size are held in memory and written after the freeze. */
    private static final long STAGE_LIMIT = 128L << 20;
    /** Pages copied under the freeze rather than forked for, whatever the program's size. */
    private static final long COPY_ALWAYS = 4L << 20;
    /** Batches of {@link PageDumper#BATCH_BYTES} that can wait for the journal appender. */
    private static final int RING_SLOTS = 4;

    private final long epoch;
    private final Tracking tracking;
    private long seq = -1;
    private Map<Long, MemoryArea> areas = Map.of();
    private DirtyTracker tracker;
    private final PageStage stage = new PageStage();
    private boolean forkFaithful = true;
    /** Copies left zombies of the program's: their pid there, by their pid here. */
    private final Map<Integer, Integer> copiesToReap = new TreeMap<>();
    private PageDumper dumper;
    private final UnaryOperator<CheckpointWriter> writers;
    private AppendRing ring;
    private volatile boolean fullAsked;
    /** The program's address space that the chain's tracker and dumper were made for. */
    private AddressSpace space;

    /**
     * @param epoch    the reign of the primary that writes this chain: every checkpoint carries it
     * @param tracking how written pages are found, so that checkpoints after the first are
     *                 incremental ({@link Tracking#NONE}: every checkpoint is full)
     */
    public Chain(long epoch, Tracking tracking) {
        this(epoch, tracking, UnaryOperator.identity());
    }

    /** @param writers applied to each checkpoint's journal writer (tests inject failures) */
    Chain(long epoch, Tracking tracking, UnaryOperator<CheckpointWriter> writers) {
        this.epoch = epoch;
        this.tracking = tracking;
        this.writers = writers;
    }

    long epoch() {
        return epoch;
    }

    Tracking tracking() {
        return tracking;
    }

    /** Makes the next checkpoint full, whatever it could build on (a standby needs a new base). Any thread. */
    public void askFull() {
        fullAsked = true;
    }

    /** Whether a full checkpoint was asked for since the last call. */
    boolean takeFullRequest() {
        boolean asked = fullAsked;
        fullAsked = false;
        return asked;
    }

    /**
     * Whether the program's pages may be read from a fork of it: not once a fork was found to
     * leave out or wipe some of its memory (MADV_DONTFORK, MADV_WIPEONFORK).
     */
    /**
     * A copy-on-write copy that will be left a zombie of the program's ({@code pid} here,
     * {@code programPid} there, see {@link io.hotclone.process.ptrace.FrozenCopy}): reaped at the
     * next barrier.
     */
    void reapLater(int pid, int programPid) {
        copiesToReap.put(pid, programPid);
    }

    /** The copies left zombies of the program's, by their pid here: children it did not make. */
    Set<Integer> copiesLeft() {
        return Set.copyOf(copiesToReap.keySet());
    }

    /** At a barrier: reaps, in the program {@code remote} runs in, the copies earlier checkpoints left it. */
    void reapCopies(RemoteSyscalls remote) {
        for (int programPid : copiesToReap.values()) {
            remote.call(SYS_wait4, programPid, 0, WNOHANG | __WALL, 0); // ECHILD if the program reaped it itself
        }
        copiesToReap.clear();
    }

    boolean forkFaithful() {
        return forkFaithful;
    }

    void forkUnfaithful() {
        forkFaithful = false;
    }

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

    /** What the tracker asks the program's lifelong tracer to serve at the program's stops. */
    StopServer stops() {
        return tracker != null ? tracker.stops() : StopServer.NONE;
    }

    /** The start addresses of the areas the tracker cannot watch, which a checkpoint carries whole. */
    Set<Long> untracked() {
        return tracker.untracked().stream().map(u -> u.area().start()).collect(Collectors.toSet());
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
     * At the barrier, before anything is read: whether the program still has the address space
     * the chain was built on. After an exec it has a new one, on which the tracker, the dumper and
     * the last checkpoint's areas tell nothing: they are dropped, and this checkpoint is full,
     * beginning a new chain.
     *
     * @return false if the program ran another program since the last checkpoint
     */
    boolean follow(int pid) {
        if (space != null && space.current()) {
            return true;
        }
        boolean first = space == null;
        if (!first) {
            space.close();
            dropTracker();
            if (dumper != null) {
                dumper.close();
                dumper = null;
            }
            seq = -1;
            areas = Map.of();
            forkFaithful = true;
        }
        space = new AddressSpace(pid);
        return first;
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

    /**
     * The most page bytes incremental checkpoint {@code seq} can carry: its written pages, plus
     * whole every area it carries whole (new, grown or untracked; PROT_NONE reservations left
     * out, since they hold no pages to speak of).
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
     * Whether copying {@code bound} page bytes under the freeze costs less than forking a
     * program of {@code residentBytes}: measured here, a copy into the stage ~0.25 ms per MiB
     * (process_vm_readv into memory faulted in already), a fork ~0.02 ms per MiB resident
     * (its page tables) plus ~1 ms for the injection and the reap; so up to about a twelfth of
     * the resident memory, and always a few MiB.
     */
    static boolean copyCheaperThanFork(long bound, long residentBytes) {
        return bound <= Math.max(COPY_ALWAYS, residentBytes / 12);
    }

    /** Whether an incremental checkpoint of at most {@code bound} page bytes may be staged. */
    boolean stageable(long bound) {
        return bound <= STAGE_LIMIT;
    }

    /** Whether the stage holds {@code bound} page bytes without allocating (a first touch under the freeze costs ~13 us a page). */
    boolean stageHolds(long bound) {
        return stage.holds(bound);
    }

    /** After the freeze: room in the stage for checkpoints like one of {@code bound} page bytes. */
    void reserveStage(long bound) {
        stage.reserve(Math.min(2 * bound, STAGE_LIMIT));
    }

    /** The stage, emptied for the pages of one checkpoint. */
    PageStage stage() {
        stage.clear();
        return stage;
    }

    void drainStage(PageSink target) {
        stage.drainTo(target);
    }

    /**
     * The program's page dumper, kept from one checkpoint to the next: its buffer is then
     * allocated and faulted in already, which under the freeze of a small checkpoint is most of
     * the cost (a first touch costs ~13 us a page here, 8 MiB of buffer ~27 ms).
     */
    PageDumper dumper(int pid) {
        if (dumper == null) {
            dumper = new PageDumper(pid);
        }
        return dumper;
    }

    /**
     * The program's ring to its journal appender, kept from one checkpoint to the next for the
     * same reason as its dumper; made before the first checkpoint freezes the program.
     */
    AppendRing ring(int pid) {
        if (ring == null) {
            ring = new AppendRing("hotclone-appender-" + pid, RING_SLOTS, writers);
        }
        return ring;
    }

    @Override
    public void close() {
        if (ring != null) {
            ring.close();
        }
        if (dumper != null) {
            dumper.close();
        }
        dropTracker();
        if (space != null) {
            space.close();
        }
        stage.close();
    }
}
