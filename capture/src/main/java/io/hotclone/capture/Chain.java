package io.hotclone.capture;

import io.hotclone.capture.dirty.StopServer;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.capture.memory.PageDumper;
import io.hotclone.capture.memory.PageStage;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.PageSink;
import io.hotclone.image.MemoryArea;
import io.hotclone.process.IpcNamespace;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_wait4;
import static io.hotclone.bindings.linux.Wait.WNOHANG;
import static io.hotclone.bindings.linux.Wait.__WALL;

/**
 * The checkpoints of one protected program so far, which an incremental checkpoint builds on:
 * the last committed one's seq and, for each process of the program, what its part of the next
 * one builds on ({@link ProcessChain}: its areas, its dirty tracker armed since its first
 * checkpoint, its page dumper).
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
    /** Each process of the program the chain has followed, by its pid here. */
    private final Map<Integer, ProcessChain> processes = new TreeMap<>();
    private final PageStage stage = new PageStage();
    private boolean forkFaithful = true;
    /** Copies left zombies of the program's: their pid there, by their pid here. */
    private final Map<Integer, Integer> copiesToReap = new TreeMap<>();
    private final UnaryOperator<CheckpointWriter> writers;
    private AppendRing ring;
    private IpcNamespace ipc;
    private volatile boolean fullAsked;

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

    /**
     * Whether the program's pages may be read from a fork of it: not once a fork was found to
     * leave out or wipe some of its memory (MADV_DONTFORK, MADV_WIPEONFORK).
     */
    boolean forkFaithful() {
        return forkFaithful;
    }

    void forkUnfaithful() {
        forkFaithful = false;
    }

    /** The seq of the last committed checkpoint, or -1. */
    long seq() {
        return seq;
    }

    /** Whether process {@code pid}'s part of the next checkpoint can be incremental. */
    boolean canBuildOn(ProcessChain process) {
        return seq != -1 && process.canBuildOn();
    }

    /** What the chain keeps of process {@code pid}, made empty the first time it is asked for. */
    ProcessChain process(int pid) {
        return processes.computeIfAbsent(pid, ProcessChain::new);
    }

    /** The processes the chain followed, by their pid here. */
    Set<Integer> pids() {
        return Set.copyOf(processes.keySet());
    }

    /** What the program's first process's tracker asks its lifelong tracer to serve at its stops. */
    StopServer stops(int root) {
        ProcessChain process = processes.get(root);
        return process != null ? process.stops() : StopServer.NONE;
    }

    /** Tracking broke somewhere: the next checkpoint is full and arms new trackers. */
    void dropTrackers() {
        processes.values().forEach(ProcessChain::dropTracker);
    }

    /**
     * Checkpoint {@code committedSeq} is committed with {@code areas} for each process it holds;
     * processes the chain followed that it does not hold are gone, and forgotten.
     */
    void committed(long committedSeq, Map<Integer, List<MemoryArea>> areas) {
        seq = committedSeq;
        for (Iterator<Map.Entry<Integer, ProcessChain>> i = processes.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<Integer, ProcessChain> e = i.next();
            List<MemoryArea> held = areas.get(e.getKey());
            if (held == null) {
                e.getValue().close();
                i.remove();
            } else {
                e.getValue().committed(held);
            }
        }
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
     * The program's ring to its journal appender, kept from one checkpoint to the next for the
     * same reason as its dumpers; made before the first checkpoint freezes the program.
     */
    AppendRing ring(int pid) {
        if (ring == null) {
            ring = new AppendRing("hotclone-appender-" + pid, RING_SLOTS, writers);
        }
        return ring;
    }

    /**
     * A thread in the IPC namespace of the program's first process {@code pid}, kept from one
     * checkpoint to the next (joining one costs more than the rest of a small program's dump); null
     * while the program shares hotclone's namespace.
     */
    IpcNamespace ipc(int pid) {
        if (ipc != null && !ipc.holds(pid)) {
            ipc.close();
            ipc = null;
        }
        if (ipc == null && IpcNamespace.isOwn(pid)) {
            ipc = IpcNamespace.join(pid);
        }
        return ipc;
    }

    @Override
    public void close() {
        if (ring != null) {
            ring.close();
        }
        if (ipc != null) {
            ipc.close();
        }
        processes.values().forEach(ProcessChain::close);
        processes.clear();
        stage.close();
    }
}
