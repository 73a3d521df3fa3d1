package io.hotclone.capture.dirty;

import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.SyscallStop;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ThreadState;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Mman.PROT_NONE;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.Signal.SS_DISABLE;

/**
 * Dirty tracking by page protection, the fallback for kernels without userfaultfd
 * write-protect: hotclone takes PROT_WRITE away from the program's private writable areas
 * (mprotect injected into it); the program's first write to a page since then faults, its
 * tracer (which traces the program for its whole life, see {@code SeizedLoop}) catches the
 * SIGSEGV and asks {@link #stops()}: the {@link FaultServer} gives the page its protection back
 * and notes it written, and the write runs again. At the barrier {@link #collect} re-protects
 * the pages written since.
 *
 * <p>Costs: a fault is a ptrace round trip and an injected call, ~50 us here where a userfaultfd
 * fault costs ~14 us; the program stops at every system call (its tracer must see the kernel
 * write into protected memory and the program change its own mappings: {@link SyscallFollower}).
 * Each page written since the last collect is an area of its own in the kernel (an mprotect
 * splits it), so a program that writes more scattered pages than vm.max_map_count allows gets
 * its whole area opened at once instead.
 *
 * <p>Hot pages, written in two intervals in a row, are left open at a collect (and reported
 * written at every one) rather than protected to fault again at once, as {@link UffdWpTracker}
 * does, and protected again every {@link UffdWpTracker#COOL_DOWN}th collect.
 *
 * <p>The main stack is not protected at all (signal frames; carried whole), nor the thread's
 * rseq area and signal stack ({@link #barrier}). /proc/PID/maps shows hotclone's protections,
 * not the program's: {@link #view} sees through them ({@link MapsView}).
 *
 * <p>Thread confinement: the program's tracer thread; every call that changes protections
 * needs the program stopped.
 */
public final class MprotectTracker extends AbstractDirtyTracker {
    /** Written page runs of an area re-protected one call each; more re-protect the whole area. */
    static final int RUNS_PER_AREA = 16;
    private static final long PAGE = PageRange.PAGE;

    private final Protections protections;
    private final StopServer stops;
    private long collects;

    private MprotectTracker(Protections protections) {
        super(protections.pid());
        this.protections = protections;
        this.stops = new Stops(new FaultServer(protections), new SyscallFollower(protections, ledger, this::ensureOpen));
    }

    /**
     * Arms {@code areas} of the program stopped at a barrier and infected by {@code remote};
     * {@code thread} is its state read at that barrier.
     */
    public static MprotectTracker start(RemoteSyscalls remote, List<MemoryArea> areas, ThreadState thread) {
        MprotectTracker t = new MprotectTracker(new Protections(remote.tracee(), remote.gadget()));
        try {
            t.barrier(remote, thread);
            t.arm(areas, false);
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /**
     * The syscall instruction the injected calls use now, and the pages the kernel writes for
     * the thread outside system calls, which stay writable and dirty: its rseq area (updated
     * whenever it resumes, so after each injected call too: it must never be protected, not
     * even for a moment) and its signal stack.
     */
    @Override
    public void barrier(RemoteSyscalls remote, ThreadState thread) {
        protections.gadget(remote.gadget());
        List<PageRange> ranges = new ArrayList<>();
        if (thread.rseq() != null) {
            ranges.add(pages(thread.rseq().address(), thread.rseq().length()));
        }
        if (thread.altstack() != null && (thread.altstack().flags() & SS_DISABLE) == 0 && thread.altstack().size() > 0) {
            ranges.add(pages(thread.altstack().sp(), thread.altstack().size()));
        }
        keep(DirtySet.of(ranges));
    }

    private static PageRange pages(long address, long length) {
        return new PageRange(address & -PAGE, (address + length + PAGE - 1) & -PAGE);
    }

    private void keep(DirtySet want) {
        DirtySet kept = protections.kept;
        try (Protections.Calls calls = protections.calls()) {
            for (PageRange r : want.minus(kept).ranges()) {
                for (Protections.Armed a : protections.overlapping(r.start(), r.end())) {
                    if (a.writable()) {
                        calls.mprotect(Math.max(a.start(), r.start()), Math.min(a.end(), r.end()), a.prot());
                    }
                }
            }
        }
        for (PageRange r : kept.ranges()) {
            if (want.within(r.start(), r.end()).pages() < r.pages()) {
                protections.opened.add(r.start(), r.end()); // no longer kept: re-protected by the next collect
            }
        }
        protections.kept = want;
    }

    @Override
    public void track(List<MemoryArea> areas) {
        ensureOpen();
        arm(areas, true);
    }

    /**
     * Makes {@code areas} the tracked set: what of them hotclone armed already (with the same
     * protection) stays armed; the rest is armed now and, if {@code dirty}, joins the next
     * collect whole (nothing watched it until now).
     */
    private void arm(List<MemoryArea> areas, boolean dirty) {
        TreeMap<Long, Protections.Armed> next = new TreeMap<>();
        List<MemoryArea> nowTracked = new ArrayList<>();
        List<UntrackedArea> nowUntracked = new ArrayList<>();
        DirtySet.Builder fresh = new DirtySet.Builder();
        try (Protections.Calls calls = protections.calls()) {
            for (MemoryArea area : areas) {
                if (!area.hasContents()) {
                    continue;
                }
                String why = area.shared() ? "MAP_SHARED: other processes write it through their own mappings"
                        : area.prot() == PROT_NONE ? "PROT_NONE: reserved address space, armed once the program"
                        + " makes it accessible"
                        : area.kind() == AreaKind.STACK ? "the main stack: the kernel writes signal frames on it,"
                        + " which a protected stack would turn into a SIGSEGV" : null;
                if (why != null) {
                    nowUntracked.add(new UntrackedArea(area, why));
                    continue;
                }
                long at = area.start();
                for (Protections.Armed a : protections.overlapping(area.start(), area.end())) {
                    long from = Math.max(a.start(), area.start());
                    long to = Math.min(a.end(), area.end());
                    if (from >= to || a.prot() != area.prot()) {
                        continue;
                    }
                    if (from > at) {
                        armNew(calls, area, at, from, next, dirty ? fresh : null);
                    }
                    put(next, area, from, to);
                    at = to;
                }
                if (at < area.end()) {
                    armNew(calls, area, at, area.end(), next, dirty ? fresh : null);
                }
                nowTracked.add(area);
            }
        } catch (RuntimeException e) {
            protections.alsoArmed(next); // all that may be protected now, for close() to open
            throw e;
        }
        protections.armed(next);
        ledger.owe(fresh.build());
        areas(nowTracked, nowUntracked);
    }

    private void armNew(Protections.Calls calls, MemoryArea area, long from, long to,
                        TreeMap<Long, Protections.Armed> next, DirtySet.Builder fresh) {
        if ((area.prot() & PROT_WRITE) != 0) {
            protect(calls, from, to, area.prot(), DirtySet.empty());
        }
        put(next, area, from, to);
        if (fresh != null) {
            fresh.add(from, to);
        }
    }

    /** Takes PROT_WRITE away from {@code [from, to)} but the pages kept writable and {@code open}. */
    private void protect(Protections.Calls calls, long from, long to, int prot, DirtySet open) {
        for (PageRange r : DirtySet.of(List.of(new PageRange(from, to))).minus(protections.kept).minus(open).ranges()) {
            calls.mprotect(r.start(), r.end(), prot & ~PROT_WRITE);
        }
    }

    /** Adds {@code [from, to)} of {@code area}, joined to the piece before it when that is of the same area. */
    private static void put(TreeMap<Long, Protections.Armed> next, MemoryArea area, long from, long to) {
        Map.Entry<Long, Protections.Armed> last = next.lastEntry();
        if (last != null && last.getValue().end() == from && last.getKey() >= area.start()) {
            next.put(last.getKey(), new Protections.Armed(last.getKey(), to, area.prot()));
        } else {
            next.put(from, new Protections.Armed(from, to, area.prot()));
        }
    }

    @Override
    public DirtySet collect() {
        ensureOpen();
        RangeSet opened = protections.opened;
        DirtySet open = opened.toDirtySet();
        DirtySet hot = ++collects % UffdWpTracker.COOL_DOWN == 0 ? DirtySet.empty() : open.intersect(protections.lastOpen);
        try (Protections.Calls calls = protections.calls()) {
            for (Protections.Armed a : protections.armed()) {
                if (!a.writable()) {
                    continue;
                }
                DirtySet in = open.within(a.start(), a.end()).minus(protections.kept).minus(hot);
                if (in.ranges().size() <= RUNS_PER_AREA) {
                    for (PageRange r : in.ranges()) {
                        calls.mprotect(r.start(), r.end(), a.prot() & ~PROT_WRITE);
                    }
                } else {
                    protect(calls, a.start(), a.end(), a.prot(), hot);
                }
            }
        } catch (RuntimeException e) {
            ledger.owe(open);
            throw e;
        }
        opened.clear();
        hot.ranges().forEach(r -> opened.add(r.start(), r.end())); // left open: written, as far as anyone knows
        protections.lastOpen = open;
        return ledger.collect(open.union(protections.kept), tracked());
    }

    /** /proc/PID/maps as the program set it up: each area with the protection it gave it, joined again. */
    @Override
    public List<MapsEntry> view(List<MapsEntry> maps) {
        return MapsView.of(maps, protections);
    }

    @Override
    public StopServer stops() {
        return stops;
    }

    /** The tracer's questions, answered by the fault server and the system call follower. */
    private final class Stops implements StopServer {
        private final FaultServer faults;
        private final SyscallFollower calls;

        Stops(FaultServer faults, SyscallFollower calls) {
            this.faults = faults;
            this.calls = calls;
        }

        @Override
        public boolean fault(long address) {
            ensureOpen();
            return faults.fault(address);
        }

        @Override
        public boolean protectsAny() {
            return protections.protectsAny();
        }

        @Override
        public Runnable beforeCall(SyscallStop entry, RemoteMemory memory) {
            return calls.beforeCall(entry, memory);
        }

        @Override
        public boolean afterCall(SyscallStop entry, long result) {
            return calls.afterCall(entry, result);
        }
    }

    /**
     * Gives every protected area its write permission back, if the program is stopped (else it
     * is ending, and its tracer's end takes it along: PTRACE_O_EXITKILL). After an execve
     * nothing is armed, and nothing is given back.
     */
    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        try {
            protections.openAll();
        } catch (RuntimeException e) {
            // Not stopped or gone: nothing to give back to.
        } finally {
            markClosed();
        }
    }
}
