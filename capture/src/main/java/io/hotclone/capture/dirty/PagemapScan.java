package io.hotclone.capture.dirty;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.page_region;
import io.hotclone.bindings.linux.pm_scan_arg;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Pagemap.PAGEMAP_SCAN;
import static io.hotclone.bindings.linux.Pagemap.PAGE_IS_WPALLOWED;
import static io.hotclone.bindings.linux.Pagemap.PAGE_IS_WRITTEN;
import static io.hotclone.bindings.linux.Pagemap.PM_SCAN_CHECK_WPASYNC;
import static io.hotclone.bindings.linux.Pagemap.PM_SCAN_WP_MATCHING;

/**
 * The PAGEMAP_SCAN ioctl (ioctl_pagemap_scan(2)) on /proc/PID/pagemap, from outside the
 * process. Thread-confined.
 *
 * <p>With category and return mask PAGE_IS_WRITTEN alone the kernel takes its fast path, which
 * counts as written every page whose entry lacks the write-protect bit or marker: pages written
 * since protection, and pages the program discarded (MADV_DONTNEED empties the entry), which
 * now read as zeros.
 */
final class PagemapScan implements AutoCloseable {
    /** page_region entries per call; the walk resumes at walk_end when they are all used. */
    static final int VECTOR = 512;

    private final int pid;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = arena.allocate(Libc.callStateLayout());
    private final MemorySegment arg = pm_scan_arg.allocate(arena);
    private final MemorySegment vector = page_region.allocateArray(VECTOR, arena);
    private final int fd;

    PagemapScan(int pid) {
        this.pid = pid;
        String path = "/proc/" + pid + "/pagemap";
        int opened = Libc.open(callState, arena.allocateFrom(path), O_RDONLY | O_CLOEXEC, 0);
        if (opened < 0) {
            int errno = Libc.errno(callState);
            arena.close();
            throw new SyscallException("open(" + path + ")", errno, "is process " + pid + " still alive?");
        }
        this.fd = opened;
    }

    /**
     * Adds to {@code out} the pages of {@code [start, end)} written since they were last
     * protected, and protects them again, in one walk per {@link #VECTOR} ranges.
     *
     * @throws SyscallException EPERM when part of the range is not armed for async write-protect
     */
    void collectWritten(long start, long end, DirtySet.Builder out) {
        scan(start, end, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 0, PAGE_IS_WRITTEN, out);
    }

    /** Write-protects every page of {@code [start, end)} that is not, reporting nothing. */
    void protect(long start, long end) {
        set(start, end, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, 0, PAGE_IS_WRITTEN, 0);
        ioctl(start, end);
    }

    /** The parts of {@code [start, end)} not registered for async write-protect. */
    List<PageRange> unarmed(long start, long end) {
        DirtySet.Builder out = new DirtySet.Builder();
        scan(start, end, 0, PAGE_IS_WPALLOWED, PAGE_IS_WPALLOWED, out);
        return out.build().ranges();
    }

    private void scan(long start, long end, long flags, long inverted, long mask, DirtySet.Builder out) {
        long at = start;
        while (at < end) {
            set(at, end, flags, inverted, mask, VECTOR);
            int n = ioctl(at, end);
            for (int i = 0; i < n; i++) {
                MemorySegment r = page_region.asSlice(vector, i);
                out.add(page_region.start(r), page_region.end(r));
            }
            long walkEnd = pm_scan_arg.walk_end(arg);
            if (n < VECTOR || walkEnd <= at) {
                return;
            }
            at = walkEnd;
        }
    }

    private void set(long start, long end, long flags, long inverted, long mask, int vectorLength) {
        arg.fill((byte) 0);
        pm_scan_arg.size(arg, pm_scan_arg.sizeof());
        pm_scan_arg.flags(arg, flags);
        pm_scan_arg.start(arg, start);
        pm_scan_arg.end(arg, end);
        pm_scan_arg.vec(arg, vectorLength == 0 ? 0 : vector.address());
        pm_scan_arg.vec_len(arg, vectorLength);
        pm_scan_arg.category_inverted(arg, inverted);
        pm_scan_arg.category_mask(arg, mask);
        pm_scan_arg.return_mask(arg, mask);
    }

    private int ioctl(long start, long end) {
        int n = Libc.ioctl(callState, fd, PAGEMAP_SCAN, arg);
        if (n < 0) {
            throw new SyscallException("ioctl(/proc/" + pid + "/pagemap, PAGEMAP_SCAN, 0x" + Long.toHexString(start)
                    + "-0x" + Long.toHexString(end) + ")", Libc.errno(callState));
        }
        return n;
    }

    @Override
    public void close() {
        Libc.close(callState, fd);
        arena.close();
    }
}
