package io.hotclone.capture.dirty;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ThreadState;

import java.util.List;

/**
 * Finds, from outside a program, the pages it wrote since the last checkpoint.
 *
 * <p>Lifecycle, one barrier (program frozen) at a time:
 * <ol>
 *   <li>{@link #start} at the barrier of a full checkpoint arms every private area it can; that
 *       checkpoint is the baseline and nothing is dirty yet.</li>
 *   <li>At each later barrier: {@link #track} with the current maps (areas that appeared are
 *       armed and dirty whole, areas that vanished are dropped), then {@link #collect}, which
 *       returns the pages written since the previous collect and re-arms them.</li>
 *   <li>Once that checkpoint is committed, {@link #commit}; if it failed, {@link #abort}, and
 *       the next collect returns the set again (a page is clean only once a checkpoint holding
 *       it is committed). Sets are committed in the order they were collected.</li>
 * </ol>
 * Areas the tracker cannot watch are listed by {@link #untracked()}; kernel areas (vdso, vvar,
 * vsyscall) and shared file mappings carry no pages and are neither tracked nor listed.
 *
 * <p>Thread confinement: the program's tracer thread. Closing stops tracking and leaves the
 * program as it was.
 */
public sealed interface DirtyTracker extends AutoCloseable permits AbstractDirtyTracker {

    /**
     * Arms tracking by {@code how} (not {@link Tracking#NONE}) on {@code areas} of a process
     * frozen and infected by {@code remote}, whose thread's state at this barrier is {@code thread}.
     *
     * @throws HotcloneException when the kernel offers no such tracking (userfaultfd
     *                           write-protect needs Linux 6.7)
     */
    static DirtyTracker start(Tracking how, RemoteSyscalls remote, List<MemoryArea> areas, ThreadState thread) {
        return switch (how) {
            case UFFD -> UffdWpTracker.start(remote.tracee().tid(), remote, areas);
            case MPROTECT -> MprotectTracker.start(remote, areas, thread);
            case NONE -> throw new IllegalArgumentException("no tracker tracks nothing");
        };
    }

    /**
     * Brings the tracker up to date with the program's current {@code areas} (its whole map, in
     * address order): arms areas that appeared since (whole-dirty in the next collect: nothing
     * watched them before), drops areas that vanished. Call at the barrier, before {@link #collect}.
     */
    void track(List<MemoryArea> areas);

    /**
     * At the barrier: the pages written since the previous collect, plus areas armed by
     * {@link #track} since, plus every set given back by {@link #abort}; re-arms them all.
     * The set is outstanding until {@link #commit} or {@link #abort}. Writes the kernel makes
     * for the program count too: read(2) into a buffer, and the thread's rseq area, which it
     * updates whenever the thread resumes (so after every barrier).
     *
     * @throws HotcloneException if an armed area changed without {@link #track}; what was found
     *                           so far is kept for the next collect
     */
    DirtySet collect();

    /** The checkpoint holding {@code set} is committed: its pages are clean. */
    void commit(DirtySet set);

    /** The checkpoint holding {@code set} failed: the next {@link #collect} returns its pages again. */
    void abort(DirtySet set);

    /** The areas armed now. */
    List<MemoryArea> tracked();

    /** Areas with contents that are not tracked: a checkpoint carries them whole. */
    List<UntrackedArea> untracked();

    /**
     * At each barrier after {@link #start}, before {@link #track}: what the tracker must know of
     * the frozen program, infected by {@code remote}, whose thread's state is {@code thread}.
     * Nothing by default.
     */
    default void barrier(RemoteSyscalls remote, ThreadState thread) {
    }

    /**
     * The program's {@code maps} (/proc/PID/maps) as the program set them up, seen through what
     * the tracker changed in them; by default the tracker changes nothing there.
     */
    default List<MapsEntry> view(List<MapsEntry> maps) {
        return maps;
    }

    /** What the program's lifelong tracer asks the tracker at the program's stops; by default nothing. */
    default StopServer stops() {
        return StopServer.NONE;
    }

    /** Stops tracking; the program keeps running unprotected. */
    @Override
    void close();
}
