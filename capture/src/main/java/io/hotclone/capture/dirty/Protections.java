package io.hotclone.capture.dirty;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mprotect;

/**
 * What dirty tracking by page protection has done to a program's memory, shared by its
 * tracker, fault server, system call follower and maps view: the ranges hotclone answers for
 * (armed, each with the protection the program gave it), the pages given their write permission
 * back since the last collect (opened), the pages never protected (kept), and the mprotect calls
 * that change them, injected into the stopped program.
 *
 * <p>Thread confinement: the program's tracer thread; every call that changes protections
 * needs the program stopped.
 */
final class Protections {
    /** An address range hotclone answers for, with the protection the program gave it. */
    record Armed(long start, long end, int prot) {
        boolean writable() {
            return (prot & PROT_WRITE) != 0;
        }
    }

    private final Tracee tracee;
    private final int pid;
    private long gadget;
    private TreeMap<Long, Armed> armed = new TreeMap<>();
    /** Pages given their write permission back since the last collect. */
    final RangeSet opened = new RangeSet();
    /** Pages never protected and reported at every collect (rseq area, signal stack). */
    DirtySet kept = DirtySet.empty();
    /** The pages open at the last collect: those open again at this one are hot. */
    DirtySet lastOpen = DirtySet.empty();

    Protections(Tracee tracee, long gadget) {
        this.tracee = tracee;
        this.pid = tracee.tid();
        this.gadget = gadget;
    }

    int pid() {
        return pid;
    }

    /** The syscall instruction the injected calls use from now on (found anew at each barrier). */
    void gadget(long address) {
        gadget = address;
    }

    Collection<Armed> armed() {
        return armed.values();
    }

    /** Makes {@code next} the armed ranges. */
    void armed(TreeMap<Long, Armed> next) {
        armed = next;
    }

    /** Adds what may be protected now, for {@link #openAll} to open. */
    void alsoArmed(Map<Long, Armed> more) {
        armed.putAll(more);
    }

    Armed armedAt(long address) {
        Map.Entry<Long, Armed> e = armed.floorEntry(address);
        return e != null && address < e.getValue().end() ? e.getValue() : null;
    }

    /** The start of the first armed range above {@code address}, or null. */
    Long armedAbove(long address) {
        return armed.higherKey(address);
    }

    List<Armed> overlapping(long from, long to) {
        Map.Entry<Long, Armed> before = armed.floorEntry(from);
        long start = before != null ? before.getKey() : from;
        return armed.subMap(start, true, to, false).values().stream().filter(a -> a.end() > from).toList();
    }

    /** Hotclone no longer answers for {@code [from, to)}: the armed ranges are cut around it. */
    void disarm(long from, long to) {
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

    /** Nothing is armed any more (the address space was replaced). */
    void disarmAll() {
        armed.clear();
    }

    /**
     * Gives the write permission back to the protected pages of {@code ranges} and counts them
     * written.
     *
     * @return whether any page was protected
     */
    boolean open(List<PageRange> ranges) {
        List<Protected> parts = protectedParts(ranges);
        try (Calls calls = calls()) {
            for (Protected p : parts) {
                calls.mprotect(p.pages().start(), p.pages().end(), p.area().prot());
                opened.add(p.pages().start(), p.pages().end());
            }
        }
        return !parts.isEmpty();
    }

    /** Whether a page of {@code ranges} is protected now: {@link #open} would have work to do. */
    boolean protects(List<PageRange> ranges) {
        return !protectedParts(ranges).isEmpty();
    }

    /** Whether any page is protected now. */
    boolean protectsAny() {
        return protects(writableRanges());
    }

    /** Opens every protected area an address in {@code addresses} lies in; false if none was protected. */
    boolean openAreasOf(long... addresses) {
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
    boolean openAll() {
        return open(writableRanges());
    }

    private List<PageRange> writableRanges() {
        return armed.values().stream().filter(Armed::writable).map(a -> new PageRange(a.start(), a.end())).toList();
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

    /** Injected mprotect calls, the program taken over at the first one. */
    Calls calls() {
        return new Calls();
    }

    /** mprotect calls injected into the stopped program, taken over at the first one. */
    final class Calls implements AutoCloseable {
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
