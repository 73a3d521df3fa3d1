package io.hotclone.capture.dirty;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.uffdio_api;
import io.hotclone.bindings.linux.uffdio_range;
import io.hotclone.bindings.linux.uffdio_register;
import io.hotclone.bindings.linux.uffdio_writeprotect;
import io.hotclone.process.Descriptors;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.MemoryArea;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Mman.PROT_NONE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_userfaultfd;
import static io.hotclone.bindings.linux.Userfaultfd.UFFDIO_API;
import static io.hotclone.bindings.linux.Userfaultfd.UFFDIO_REGISTER;
import static io.hotclone.bindings.linux.Userfaultfd.UFFDIO_REGISTER_MODE_WP;
import static io.hotclone.bindings.linux.Userfaultfd.UFFD_API;
import static io.hotclone.bindings.linux.Userfaultfd.UFFDIO_WRITEPROTECT;
import static io.hotclone.bindings.linux.Userfaultfd.UFFD_FEATURE_WP_ASYNC;
import static io.hotclone.bindings.linux.Userfaultfd.UFFD_FEATURE_WP_UNPOPULATED;
import static io.hotclone.bindings.linux.Userfaultfd.UFFD_USER_MODE_ONLY;

/**
 * Dirty tracking by userfaultfd asynchronous write-protect (userfaultfd(2), Linux 6.7): the
 * kernel itself resolves the program's first write to a protected page and only clears the
 * page's write-protect bit; PAGEMAP_SCAN later reads those bits and sets them again in one walk.
 * The program never stops for a fault and no thread of hotclone serves it.
 *
 * <p>A userfaultfd acts on the address space of the process that created it, so {@link #start}
 * creates it inside the frozen program (one injected syscall), copies it into hotclone with
 * pidfd_getfd and closes the program's copy: the program keeps no trace. From then on every
 * ioctl is hotclone's own. Closing the tracker closes the userfaultfd, and the kernel unregisters
 * and unprotects every area.
 *
 * <p>Arming an area registers it (UFFDIO_REGISTER_MODE_WP) and write-protects it with the same
 * PAGEMAP_SCAN walk that collects: it protects only what is not protected yet, in half the time
 * of UFFDIO_WRITEPROTECT on populated memory (16 against 31 ms per GiB here). Either way the
 * kernel protects never-touched pages too, with markers in page tables it allocates: 2 MiB of
 * page tables and about 0.4 ms more per collect for each GiB of address space armed, touched or
 * not. So PROT_NONE areas (reserved address space: heap reservations, guard pages) are left
 * unarmed and carried whole, which costs nothing while they hold no page; once the program makes
 * part of one accessible, that part is a new area and {@link #track} arms it.
 *
 * <p>Hot pages: a page written in two collects in a row is likely written in every interval,
 * and each first write after protection is a fault (~14 us here: 29 ms per 100 ms for an 8 MiB
 * hot set). Such pages are left unprotected after a collect (UFFDIO_WRITEPROTECT without
 * MODE_WP, while the program is frozen), so the program writes them without faults; an
 * unprotected page reads as written, so every collect reports it and the checkpoint copies it:
 * 4 KiB read under the freeze instead of a fault. Every {@link #COOL_DOWN}th collect leaves
 * them protected, so that pages no longer written drop out of the hot set.
 *
 * <p>Thread confinement: the program's tracer thread.
 */
public final class UffdWpTracker extends AbstractDirtyTracker {
    /** Every this many collects the hot set is forgotten and learnt again. */
    static final int COOL_DOWN = 16;

    /** WP_ASYNC implies WP_UNPOPULATED (the kernel sets it anyway); asked for to say so. */
    private static final long FEATURES = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

    private final int uffd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = arena.allocate(Libc.callStateLayout());
    private final MemorySegment register = uffdio_register.allocate(arena);
    private final PagemapScan pagemap;
    private DirtySet lastFound = DirtySet.empty();
    private long collects;

    private UffdWpTracker(int pid, int uffd, PagemapScan pagemap) {
        super(pid);
        this.uffd = uffd;
        this.pagemap = pagemap;
    }

    /**
     * Arms tracking on {@code areas} of process {@code pid}, stopped at a barrier, with a
     * userfaultfd created inside it through {@code remote}. Leaves {@code remote} as it found it.
     */
    public static UffdWpTracker start(int pid, RemoteSyscalls remote, List<MemoryArea> areas) {
        long remoteFd;
        try {
            remoteFd = remote.check("userfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)", SYS_userfaultfd,
                    O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
        } catch (SyscallException e) {
            throw new HotcloneException("cannot track written pages of process " + pid + ": " + e.getMessage()
                    + " (needs a kernel with CONFIG_USERFAULTFD, Linux 5.11+, and no seccomp filter"
                    + " denying userfaultfd in the program); use --dirty-tracking mprotect or none", e);
        }
        int local;
        try {
            local = Descriptors.copyOf(pid, (int) remoteFd);
        } catch (RuntimeException e) {
            remote.call(SYS_close, remoteFd);
            throw e;
        }
        try {
            remote.check("close(userfaultfd " + remoteFd + ")", SYS_close, remoteFd);
        } catch (RuntimeException e) {
            Libc.close(Native.callState(), local);
            throw e;
        }
        return adopt(pid, local, areas);
    }

    /**
     * Arms tracking on {@code areas} of process {@code pid} with {@code userfaultfd}, a
     * userfaultfd created in that process's address space and not yet set up by UFFDIO_API (a
     * benchmark tracking its own memory creates one directly). Takes ownership of the fd.
     */
    public static UffdWpTracker adopt(int pid, int userfaultfd, List<MemoryArea> areas) {
        UffdWpTracker tracker;
        try {
            enableAsyncWriteProtect(pid, userfaultfd);
            tracker = new UffdWpTracker(pid, userfaultfd, new PagemapScan(pid));
        } catch (RuntimeException e) {
            Libc.close(Native.callState(), userfaultfd);
            throw e;
        }
        try {
            tracker.arm(areas, false);
            return tracker;
        } catch (RuntimeException e) {
            tracker.close();
            throw e;
        }
    }

    private static void enableAsyncWriteProtect(int pid, int uffd) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment cs = Native.callState();
            MemorySegment api = uffdio_api.allocate(local);
            uffdio_api.api(api, UFFD_API);
            uffdio_api.features(api, FEATURES);
            if (Libc.ioctl(cs, uffd, UFFDIO_API, api) < 0) {
                throw new SyscallException("ioctl(userfaultfd of process " + pid + ", UFFDIO_API, WP_ASYNC | WP_UNPOPULATED)",
                        Libc.errno(cs), "asynchronous write-protect needs Linux 6.7; use --dirty-tracking mprotect or none");
            }
        }
    }

    @Override
    public void track(List<MemoryArea> areas) {
        ensureOpen();
        arm(areas, true);
    }

    /**
     * Arms what in {@code areas} is not armed yet and makes {@code areas} the tracked set.
     *
     * @param dirty whether newly armed parts join the next collect: everywhere but at start,
     *              since nothing watched them until now
     */
    private void arm(List<MemoryArea> areas, boolean dirty) {
        List<MemoryArea> nowTracked = new ArrayList<>();
        List<UntrackedArea> nowUntracked = new ArrayList<>();
        DirtySet.Builder armed = new DirtySet.Builder();
        for (MemoryArea area : areas) {
            if (!area.hasContents()) {
                continue;
            }
            if (area.shared()) {
                nowUntracked.add(new UntrackedArea(area, "MAP_SHARED: other processes write it through their own"
                        + " mappings, which write-protection in this one cannot see"));
                continue;
            }
            try {
                List<PageRange> unarmed = pagemap.unarmed(area.start(), area.end());
                if (!unarmed.isEmpty() && area.prot() == PROT_NONE) {
                    nowUntracked.add(new UntrackedArea(area, "PROT_NONE: reserved address space, armed once"
                            + " the program makes it accessible"));
                    continue;
                }
                for (PageRange r : unarmed) {
                    register(r);
                    pagemap.protect(r.start(), r.end());
                    armed.add(r);
                }
                nowTracked.add(area);
            } catch (SyscallException e) {
                nowUntracked.add(new UntrackedArea(area, "cannot arm it: " + e.getMessage()));
            }
        }
        ledger.owe(dirty ? armed.build() : DirtySet.empty());
        areas(nowTracked, nowUntracked);
    }

    private void register(PageRange r) {
        MemorySegment range = uffdio_register.range(register);
        uffdio_range.start(range, r.start());
        uffdio_range.len(range, r.length());
        uffdio_register.mode(register, UFFDIO_REGISTER_MODE_WP);
        if (Libc.ioctl(callState, uffd, UFFDIO_REGISTER, register) < 0) {
            throw new SyscallException("ioctl(userfaultfd, UFFDIO_REGISTER, pid=" + pid + ", " + r + ", MODE_WP)",
                    Libc.errno(callState));
        }
    }

    @Override
    public DirtySet collect() {
        ensureOpen();
        DirtySet.Builder found = new DirtySet.Builder();
        for (MemoryArea area : tracked()) {
            try {
                pagemap.collectWritten(area.start(), area.end(), found);
            } catch (SyscallException e) {
                // What this walk re-protected is only in `found`: keep it, and the whole area.
                ledger.owe(found.build().union(DirtySet.of(List.of(new PageRange(area.start(), area.end())))));
                throw new HotcloneException("cannot collect the written pages of process " + pid + " in "
                        + describe(area) + ": " + e.getMessage() + (e.errno() == Errno.EPERM
                        ? " (the area was unmapped or mapped again since track(): call track() with the current maps first)"
                        : ""), e);
            }
        }
        DirtySet written = found.build();
        leaveHotPagesUnprotected(written);
        return ledger.collect(written, tracked());
    }

    /** Unprotects the pages written in this collect and the one before (see the class comment). */
    private void leaveHotPagesUnprotected(DirtySet written) {
        DirtySet hot = ++collects % COOL_DOWN == 0 ? DirtySet.empty() : written.intersect(lastFound);
        lastFound = written;
        MemorySegment wp = uffdio_writeprotect.allocate(arena);
        for (PageRange r : hot.ranges()) {
            MemorySegment range = uffdio_writeprotect.range(wp);
            uffdio_range.start(range, r.start());
            uffdio_range.len(range, r.length());
            uffdio_writeprotect.mode(wp, 0);
            if (Libc.ioctl(callState, uffd, UFFDIO_WRITEPROTECT, wp) < 0) {
                // Still protected: the program faults on it as on any other page, nothing is lost.
                lastFound = DirtySet.empty();
                return;
            }
        }
    }

    private static String describe(MemoryArea a) {
        return "area 0x" + Long.toHexString(a.start()) + "-0x" + Long.toHexString(a.end())
                + (a.path().isEmpty() ? "" : " " + a.path());
    }

    @Override
    public void close() {
        if (!markClosed()) {
            return;
        }
        pagemap.close();
        Libc.close(callState, uffd);
        arena.close();
    }
}
