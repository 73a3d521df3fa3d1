package io.hotclone.capture.dirty;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ThreadState;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Mman.PROT_EXEC;
import static io.hotclone.bindings.linux.Mman.PROT_NONE;
import static io.hotclone.bindings.linux.Mman.PROT_READ;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.Signal.SS_DISABLE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mprotect;

/**
 * Dirty tracking by page protection, the fallback for kernels without userfaultfd
 * write-protect: hotclone takes PROT_WRITE away from the program's private writable areas
 * (mprotect injected into it); the program's first write to a page since then faults, its
 * tracer (which traces the program for its whole life, see {@code SeizedLoop}) catches the
 * SIGSEGV, gives the page its protection back ({@link #fault}), notes it written and lets the
 * write run again. At the barrier {@link #collect} re-protects the pages written since.
 *
 * <p>Costs: a fault is a ptrace round trip and an injected call, ~50 us here where a userfaultfd
 * fault costs ~14 us; the program stops at every system call (its tracer must see the kernel
 * write into protected memory and the program change its own mappings). Each page written
 * since the last collect is an area of its own in the kernel (an mprotect splits it), so a
 * program that writes more scattered pages than vm.max_map_count allows gets its whole area
 * opened at once instead.
 *
 * <p>A first write opens one page; when it extends a run of pages written since the last
 * collect, a block as long as that run (up to {@link #MAX_BLOCK}), so that sequential writing
 * costs a number of faults that grows with the log of its length; when its page was written in
 * the last interval, or another page of its {@link #HOT_BLOCK} block in this one, that block, so
 * that a burst of writes over a hot region costs a fault per block, not per page. The unwritten
 * pages of an opened block count as written.
 *
 * <p>Hot pages, written in two intervals in a row, are left open at a collect (and reported
 * written at every one) rather than protected to fault again at once, as {@link UffdWpTracker}
 * does, and protected again every {@link UffdWpTracker#COOL_DOWN}th collect.
 *
 * <p>What the kernel writes for the program must never meet a protected page, or the program
 * sees EFAULT or dies of SIGSEGV: buffers of system calls are opened before the call
 * ({@link #open}) and a call that still fails with EFAULT is run again once its areas are
 * opened; the main stack is not protected at all (signal frames; carried whole), nor the
 * thread's rseq area and signal stack ({@link #barrier}).
 *
 * <p>/proc/PID/maps shows hotclone's protections, not the program's: {@link #view} gives each
 * area back the protection the program set and joins what hotclone's mprotect split.
 *
 * <p>Thread confinement: the program's tracer thread; every call that changes protections
 * needs the program stopped.
 */
public final class MprotectTracker extends AbstractDirtyTracker {
    /** Written page runs of an area re-protected one call each; more re-protect the whole area. */
    static final int RUNS_PER_AREA = 16;
    /** The most a first write opens, when it continues a run of pages written since the last collect. */
    static final long MAX_BLOCK = 1L << 20;
    /** What a first write opens in a page written in the last interval too: its aligned block of this size. */
    static final long HOT_BLOCK = 64L << 10;
    private static final long PAGE = PageRange.PAGE;

    /** An address range hotclone answers for, with the protection the program gave it. */
    private record Armed(long start, long end, int prot) {
        boolean writable() {
            return (prot & PROT_WRITE) != 0;
        }
    }

    private final Tracee tracee;
    private long gadget;
    private final TreeMap<Long, Armed> armed = new TreeMap<>();
    /** Pages given their write permission back since the last collect. */
    private final RangeSet opened = new RangeSet();
    /** Pages never protected and reported at every collect (rseq area, signal stack). */
    private DirtySet kept = DirtySet.empty();
    /** The pages open at the last collect: those open again at this one are hot. */
    private DirtySet lastOpen = DirtySet.empty();
    private long collects;
    private boolean replaced;

    private MprotectTracker(Tracee tracee, long gadget) {
        super(tracee.tid());
        this.tracee = tracee;
        this.gadget = gadget;
    }

    /**
     * Arms {@code areas} of the program stopped at a barrier and infected by {@code remote};
     * {@code thread} is its state read at that barrier.
     */
    public static MprotectTracker start(RemoteSyscalls remote, List<MemoryArea> areas, ThreadState thread) {
        MprotectTracker t = new MprotectTracker(remote.tracee(), remote.gadget());
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
     * At the barrier, before {@link #track}: the syscall instruction the injected calls use now,
     * and the pages the kernel writes for the thread outside system calls, which stay writable
     * and dirty: its rseq area (updated whenever it resumes, so after each injected call too:
     * it must never be protected, not even for a moment) and its signal stack.
     */
    public void barrier(RemoteSyscalls remote, ThreadState thread) {
        gadget = remote.gadget();
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
        try (Calls calls = new Calls()) {
            for (PageRange r : want.minus(kept).ranges()) {
                for (Armed a : overlapping(r.start(), r.end())) {
                    if (a.writable()) {
                        calls.mprotect(Math.max(a.start(), r.start()), Math.min(a.end(), r.end()), a.prot());
                    }
                }
            }
        }
        for (PageRange r : kept.ranges()) {
            if (want.within(r.start(), r.end()).pages() < r.pages()) {
                opened.add(r.start(), r.end()); // no longer kept: re-protected by the next collect
            }
        }
        kept = want;
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
        replaced = false;
        TreeMap<Long, Armed> next = new TreeMap<>();
        List<MemoryArea> nowTracked = new ArrayList<>();
        List<UntrackedArea> nowUntracked = new ArrayList<>();
        DirtySet.Builder fresh = new DirtySet.Builder();
        try (Calls calls = new Calls()) {
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
                Map.Entry<Long, Armed> before = armed.floorEntry(area.start());
                long from0 = before != null ? before.getKey() : area.start();
                for (Armed a : armed.subMap(from0, true, area.end(), false).values()) {
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
            armed.putAll(next); // all that may be protected now, for close() to open
            throw e;
        }
        armed.clear();
        armed.putAll(next);
        ledger.owe(fresh.build());
        areas(nowTracked, nowUntracked);
    }

    private void armNew(Calls calls, MemoryArea area, long from, long to, TreeMap<Long, Armed> next,
                        DirtySet.Builder fresh) {
        if ((area.prot() & PROT_WRITE) != 0) {
            protect(calls, from, to, area.prot(), DirtySet.empty());
        }
        put(next, area, from, to);
        if (fresh != null) {
            fresh.add(from, to);
        }
    }

    /** Takes PROT_WRITE away from {@code [from, to)} but the pages kept writable and {@code open}. */
    private void protect(Calls calls, long from, long to, int prot, DirtySet open) {
        for (PageRange r : DirtySet.of(List.of(new PageRange(from, to))).minus(kept).minus(open).ranges()) {
            calls.mprotect(r.start(), r.end(), prot & ~PROT_WRITE);
        }
    }

    /** Adds {@code [from, to)} of {@code area}, joined to the piece before it when that is of the same area. */
    private static void put(TreeMap<Long, Armed> next, MemoryArea area, long from, long to) {
        Map.Entry<Long, Armed> last = next.lastEntry();
        if (last != null && last.getValue().end() == from && last.getKey() >= area.start()) {
            next.put(last.getKey(), new Armed(last.getKey(), to, area.prot()));
        } else {
            next.put(from, new Armed(from, to, area.prot()));
        }
    }

    @Override
    public DirtySet collect() {
        ensureOpen();
        DirtySet open = opened.toDirtySet();
        DirtySet hot = ++collects % UffdWpTracker.COOL_DOWN == 0 ? DirtySet.empty() : open.intersect(lastOpen);
        try (Calls calls = new Calls()) {
            for (Armed a : armed.values()) {
                if (!a.writable()) {
                    continue;
                }
                DirtySet in = open.within(a.start(), a.end()).minus(kept).minus(hot);
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
        lastOpen = open;
        return ledger.collect(open.union(kept), tracked());
    }

    /**
     * The program's first write to a page since it was protected: the page gets its write
     * permission back and counts as written. Call at the signal-delivery stop of the SIGSEGV.
     *
     * @return false when hotclone did not protect that address: the SIGSEGV is the program's own
     */
    public boolean fault(long address) {
        ensureOpen();
        Armed a = armedAt(address);
        if (a == null || !a.writable()) {
            return false;
        }
        long page = address & -PAGE;
        if (opened.covers(page, page + PAGE)) {
            return false; // writable already: not a fault of hotclone's making
        }
        // A program writing on from pages it wrote since the last collect (filling a buffer, its
        // setup touching a new heap) gets a block as long as that run, up to MAX_BLOCK: the faults
        // of a sequential sweep grow in number with the log of its length, not the length.
        long block = Math.min(Math.max(PAGE, opened.runEndingAt(page)), MAX_BLOCK);
        long from = page;
        long hotStart = page & -HOT_BLOCK;
        if (block == PAGE && (!lastOpen.within(page, page + PAGE).isEmpty()
                || opened.intersects(hotStart, hotStart + HOT_BLOCK))) {
            // Written in the last interval too (though protected again since: the hot set's cool-down),
            // or a second page of its block written in this one: its neighbours likely are as well,
            // and their faults would come in a burst. Open the block together.
            from = Math.max(a.start(), Math.max(opened.openEndBefore(page), hotStart));
            block = hotStart + HOT_BLOCK - page;
        }
        // Up to the first page open already (the page itself is not).
        long end = opened.gaps(page, Math.min(a.end(), page + block)).getFirst().end();
        try (Calls calls = new Calls()) {
            if (calls.tryMprotect(from, end, a.prot()) == -Errno.ENOMEM) {
                // One area more would pass vm.max_map_count: open the whole area in one piece.
                calls.mprotect(a.start(), a.end(), a.prot());
                opened.add(a.start(), a.end());
                return true;
            }
        }
        opened.add(from, end);
        return true;
    }

    /**
     * Gives the write permission back to the protected pages of {@code ranges} (the buffers a
     * system call is about to write) and counts them written.
     *
     * @return whether any page was protected
     */
    public boolean open(List<PageRange> ranges) {
        ensureOpen();
        List<Protected> parts = protectedParts(ranges);
        try (Calls calls = new Calls()) {
            for (Protected p : parts) {
                calls.mprotect(p.pages().start(), p.pages().end(), p.area().prot());
                opened.add(p.pages().start(), p.pages().end());
            }
        }
        return !parts.isEmpty();
    }

    /** Whether a page of {@code ranges} is protected now: {@link #open} would have work to do. */
    public boolean protects(List<PageRange> ranges) {
        return !protectedParts(ranges).isEmpty();
    }

    /** Pages of an armed area taken write permission away from now. */
    private record Protected(Armed area, PageRange pages) {
    }

    /**
     * The runs of {@code ranges} that are protected now, each with its area: in a writable armed
     * area, not opened since the last collect, and not all kept writable.
     */
    private List<Protected> protectedParts(List<PageRange> ranges) {
        List<Protected> parts = new ArrayList<>();
        for (PageRange r : DirtySet.of(ranges).ranges()) { // merged: a page opened once
            for (Armed a : overlapping(r.start(), r.end())) {
                if (!a.writable()) {
                    continue;
                }
                for (PageRange gap : opened.gaps(Math.max(a.start(), r.start()), Math.min(a.end(), r.end()))) {
                    if (kept.within(gap.start(), gap.end()).pages() < gap.pages()) {
                        parts.add(new Protected(a, gap));
                    }
                }
            }
        }
        return parts;
    }

    /** Whether any page is protected now. */
    public boolean protectsAny() {
        return protects(writableRanges());
    }

    private List<PageRange> writableRanges() {
        return armed.values().stream().filter(Armed::writable).map(a -> new PageRange(a.start(), a.end())).toList();
    }

    /** Opens every protected area an address in {@code addresses} lies in; false if none was protected. */
    public boolean openAreasOf(long... addresses) {
        List<PageRange> ranges = new ArrayList<>();
        for (long address : addresses) {
            Armed a = armedAt(address);
            if (a != null && a.writable()) {
                ranges.add(new PageRange(a.start(), a.end()));
            }
        }
        return open(ranges);
    }

    /** Opens every protected area; false if none was protected. */
    public boolean openAll() {
        return open(writableRanges());
    }

    /**
     * The program changed the mappings of {@code [from, to)} itself (mprotect, munmap, mmap over
     * it): hotclone no longer answers for them; the next {@link #track} arms what is there then,
     * dirty whole.
     */
    public void forget(long from, long to) {
        ensureOpen();
        for (Armed a : overlapping(from, to)) {
            armed.remove(a.start());
            if (a.start() < from) {
                armed.put(a.start(), new Armed(a.start(), from, a.prot()));
            }
            if (a.end() > to) {
                armed.put(to, new Armed(to, a.end(), a.prot()));
            }
        }
    }

    /**
     * The program moved {@code [from, from + length)} to {@code [to, to + newLength)} (mremap):
     * the moved pages keep hotclone's protection, so the new place gets the program's back.
     */
    public void moved(long from, long length, long to, long newLength) {
        ensureOpen();
        Armed a = armedAt(from);
        forget(from, from + length);
        forget(to, to + newLength);
        if (a != null && a.writable()) {
            try (Calls calls = new Calls()) {
                calls.mprotect(to, to + newLength, a.prot());
            }
        }
    }

    /**
     * The program's break is now {@code pageEnd} (brk): what hotclone armed of the heap above it
     * is unmapped, and what the heap grows into later is new.
     */
    public void breakMoved(long pageEnd) {
        Armed a = armedAt(pageEnd);
        if (a != null) {
            forget(pageEnd, a.end());
        }
    }

    /** The program emptied {@code [from, to)} (MADV_DONTNEED and the like): its pages changed without a write. */
    public void discarded(long from, long to) {
        ensureOpen();
        DirtySet.Builder b = new DirtySet.Builder();
        for (Armed a : overlapping(from, to)) {
            b.add(Math.max(a.start(), from), Math.min(a.end(), to));
        }
        ledger.owe(b.build());
    }

    /** The program replaced its address space (execve): nothing of it is protected any more. */
    public void replaced() {
        replaced = true;
        armed.clear();
    }

    /**
     * /proc/PID/maps as the program set it up: each line inside an armed range has the range's
     * protection, and the pieces hotclone's mprotect split an armed range into are one again.
     */
    public List<MapsEntry> view(List<MapsEntry> maps) {
        List<MapsEntry> out = new ArrayList<>(maps.size());
        for (MapsEntry m : maps) {
            long at = m.start();
            while (at < m.end()) {
                Armed a = armedAt(at);
                Long next = armed.higherKey(at);
                long to = Math.min(m.end(), a != null ? a.end() : next != null ? next : m.end());
                int prot = a != null ? a.prot() : m.prot();
                MapsEntry piece = new MapsEntry(at, to, (prot & PROT_READ) != 0, (prot & PROT_WRITE) != 0,
                        (prot & PROT_EXEC) != 0, m.shared(), m.inode() == 0 ? m.offset() : m.offset() + (at - m.start()),
                        m.device(), m.inode(), m.name());
                int last = out.size() - 1;
                if (a != null && last >= 0 && out.get(last).start() >= a.start() && joins(out.get(last), piece)) {
                    MapsEntry p = out.get(last);
                    out.set(last, new MapsEntry(p.start(), to, p.read(), p.write(), p.exec(), p.shared(), p.offset(),
                            p.device(), p.inode(), p.name()));
                } else {
                    out.add(piece);
                }
                at = to;
            }
        }
        return out;
    }

    /** Whether {@code q} continues {@code p} (maps shows offset 0 for every anonymous area). */
    private static boolean joins(MapsEntry p, MapsEntry q) {
        return p.end() == q.start() && p.prot() == q.prot() && p.shared() == q.shared()
                && (p.inode() == 0 ? q.offset() == p.offset() : p.offset() + p.length() == q.offset())
                && p.device().equals(q.device()) && p.inode() == q.inode() && p.name().equals(q.name());
    }

    private Armed armedAt(long address) {
        Map.Entry<Long, Armed> e = armed.floorEntry(address);
        return e != null && address < e.getValue().end() ? e.getValue() : null;
    }

    private List<Armed> overlapping(long from, long to) {
        Map.Entry<Long, Armed> before = armed.floorEntry(from);
        long start = before != null ? before.getKey() : from;
        return armed.subMap(start, true, to, false).values().stream().filter(a -> a.end() > from).toList();
    }

    /**
     * Gives every protected area its write permission back, if the program is stopped (else it
     * is ending, and its tracer's end takes it along: PTRACE_O_EXITKILL).
     */
    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        try {
            if (!replaced) {
                openAll();
            }
        } catch (RuntimeException e) {
            // Not stopped or gone: nothing to give back to.
        } finally {
            markClosed();
        }
    }

    /** mprotect calls injected into the stopped program, taken over at the first one. */
    private final class Calls implements AutoCloseable {
        private RemoteSyscalls remote;

        /** Returns 0 or -errno. */
        long tryMprotect(long from, long to, int prot) {
            if (remote == null) {
                remote = RemoteSyscalls.borrow(tracee, gadget);
            }
            return remote.call(SYS_mprotect, from, to - from, prot);
        }

        void mprotect(long from, long to, int prot) {
            long r = tryMprotect(from, to, prot);
            if (r < 0) {
                throw new SyscallException("mprotect(0x" + Long.toHexString(from) + "-0x" + Long.toHexString(to)
                        + ", " + ((prot & PROT_WRITE) != 0 ? "opening" : "protecting") + ") in process " + pid
                        + " for dirty tracking", (int) -r, (int) -r == Errno.ENOMEM
                        ? "more areas than vm.max_map_count allows: raise it, or use --dirty-tracking uffd" : null);
            }
        }

        @Override
        public void close() {
            if (remote != null) {
                remote.close();
            }
        }
    }
}
