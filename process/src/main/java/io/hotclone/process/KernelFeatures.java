package io.hotclone.process;

import io.hotclone.bindings.HotcloneException;

import io.hotclone.bindings.Native;

import io.hotclone.bindings.SyscallException;

import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.Fcntl;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.Pagemap;
import io.hotclone.bindings.linux.Prctl;
import io.hotclone.bindings.linux.Ptrace;
import io.hotclone.bindings.linux.Signal;
import io.hotclone.bindings.linux.SyscallsAmd64;
import io.hotclone.bindings.linux.Sysconf;
import io.hotclone.bindings.linux.Userfaultfd;
import io.hotclone.bindings.linux.Wait;
import io.hotclone.bindings.linux.iovec;
import io.hotclone.bindings.linux.page_region;
import io.hotclone.bindings.linux.pm_scan_arg;
import io.hotclone.bindings.linux.uffdio_api;
import io.hotclone.bindings.linux.utsname;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the running kernel offers hotclone, probed once by {@link #probe()}; {@code hotclone check}
 * prints {@link #describe()}. Immutable; the probe spawns, seizes and kills one short-lived child.
 *
 * @param kernelRelease        uname -r
 * @param pageSize             bytes per base page
 * @param ptraceSeize          PTRACE_SEIZE, PTRACE_INTERRUPT and waitpid work on a child we spawned
 * @param xsaveSize            bytes of the NT_X86_XSTATE register set (0 if unknown)
 * @param xcr0                 the OS-enabled XSAVE feature mask, from bytes 464..471 of that set
 * @param userfaultfd          userfaultfd(2) and UFFDIO_API work
 * @param uffdFeatures         the UFFD_FEATURE_* bits the kernel offers
 * @param pagemapScan          the PAGEMAP_SCAN ioctl works on /proc/self/pagemap
 * @param clone3               the clone3 syscall exists
 * @param nsLastPid            /proc/sys/kernel/ns_last_pid exists (the pre-clone3 way to choose a pid)
 * @param namespaces           the entries of /proc/self/ns
 * @param thpMode              the selected transparent huge page mode, or "unavailable"
 * @param softDirty            the kernel tracks soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)
 * @param prSetMmMap           prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE) answers (CONFIG_CHECKPOINT_RESTORE)
 * @param capSysResource       CAP_SYS_RESOURCE is effective (the single-field PR_SET_MM_* calls need it)
 * @param capCheckpointRestore CAP_CHECKPOINT_RESTORE is effective
 * @param capSysAdmin          CAP_SYS_ADMIN is effective
 * @param vdsoAreas            the vdso and vvar areas of our own address space, by name
 */
public record KernelFeatures(
        String kernelRelease,
        long pageSize,
        boolean ptraceSeize,
        int xsaveSize,
        long xcr0,
        boolean userfaultfd,
        long uffdFeatures,
        boolean pagemapScan,
        boolean clone3,
        boolean nsLastPid,
        List<String> namespaces,
        String thpMode,
        boolean softDirty,
        boolean prSetMmMap,
        boolean capSysResource,
        boolean capCheckpointRestore,
        boolean capSysAdmin,
        List<String> vdsoAreas) {

    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_SYS_RESOURCE = 24;
    private static final int CAP_CHECKPOINT_RESTORE = 40;
    /** Where the kernel puts XCR0 in the software-reserved bytes of a ptrace xsave area (asm/user.h). */
    private static final long XCR0_OFFSET = 464;
    private static final long PM_SOFT_DIRTY = 1L << 55;

    public KernelFeatures {
        namespaces = List.copyOf(namespaces);
        vdsoAreas = List.copyOf(vdsoAreas);
    }

    /** UFFD_FEATURE_WP_ASYNC: the kernel resolves write-protect faults itself and PAGEMAP_SCAN reports them. */
    public boolean uffdWpAsync() {
        return (uffdFeatures & Userfaultfd.UFFD_FEATURE_WP_ASYNC) != 0;
    }

    /** clone3 with set_tid: needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN. */
    public boolean clone3SetTid() {
        return clone3 && (capCheckpointRestore || capSysAdmin);
    }

    public boolean vdso() {
        return vdsoAreas.contains("[vdso]");
    }

    /** Probes this kernel; takes a few milliseconds. */
    public static KernelFeatures probe() {
        long pageSize = Host.PAGE_SIZE;
        long[] xsave = probePtrace();
        long uffdFeatures = probeUserfaultfd();
        long capEff = capEff();
        return new KernelFeatures(
                Host.KERNEL_RELEASE,
                pageSize,
                xsave != null,
                xsave == null ? 0 : (int) xsave[0],
                xsave == null ? 0 : xsave[1],
                uffdFeatures >= 0,
                Math.max(uffdFeatures, 0),
                probePagemapScan(pageSize),
                probeClone3(),
                Files.exists(Path.of("/proc/sys/kernel/ns_last_pid")),
                list(Path.of("/proc/self/ns")),
                readThpMode(),
                probeSoftDirty(pageSize),
                probePrSetMmMap(),
                (capEff & (1L << CAP_SYS_RESOURCE)) != 0,
                (capEff & (1L << CAP_CHECKPOINT_RESTORE)) != 0,
                (capEff & (1L << CAP_SYS_ADMIN)) != 0,
                readVdsoAreas());
    }

    /** One line per feature: "ok   what" or "no   what: what it means for hotclone". */
    public List<String> describe() {
        var lines = new ArrayList<String>();
        lines.add("ok   kernel " + kernelRelease + ", page size " + pageSize);
        line(lines, ptraceSeize, "ptrace PTRACE_SEIZE of a spawned child",
                "hotclone cannot stop or checkpoint any program (seccomp, Yama ptrace_scope or a missing CAP_SYS_PTRACE?)");
        line(lines, xsaveSize > 0, "xsave area " + xsaveSize + " bytes, XCR0 0x" + Long.toHexString(xcr0),
                "FPU and vector registers cannot be saved; a restore on another CPU cannot be checked");
        line(lines, userfaultfd, "userfaultfd, features 0x" + Long.toHexString(uffdFeatures),
                "no userfaultfd dirty tracking; falls back to mprotect + SIGSEGV (slower)");
        line(lines, uffdWpAsync(), "userfaultfd write-protect async (dirty tracking)",
                "needs Linux 6.7; incremental checkpoints fall back to mprotect + SIGSEGV");
        line(lines, pagemapScan, "PAGEMAP_SCAN ioctl",
                "needs Linux 6.7; written pages cannot be found and re-protected in one call");
        line(lines, softDirty, "soft-dirty page bits",
                "CONFIG_MEM_SOFT_DIRTY is off; dirty tracking uses userfaultfd write-protect instead");
        line(lines, thpMode.equals("madvise") || thpMode.equals("never"), "transparent huge pages: " + thpMode,
                thpMode.equals("unavailable") ? "no huge pages"
                        : "every anonymous area may be huge; a write-protect fault splits a huge page, measure that cost");
        line(lines, clone3, "clone3", "threads and processes cannot be recreated with their pids");
        line(lines, clone3SetTid(), "clone3 set_tid (restore with the same pids)",
                "needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN; restored pids would differ");
        line(lines, prSetMmMap, "prctl(PR_SET_MM_MAP)",
                "needs CONFIG_CHECKPOINT_RESTORE; brk, stack and argv bounds cannot be restored");
        line(lines, capSysResource, "CAP_SYS_RESOURCE",
                "single-field PR_SET_MM_* calls fail (PR_SET_MM_MAP does not need it); hard rlimits cannot be raised");
        line(lines, capCheckpointRestore, "CAP_CHECKPOINT_RESTORE", "clone3 set_tid and the exe link need CAP_SYS_ADMIN instead");
        line(lines, !namespaces.isEmpty(), "namespaces: " + String.join(" ", namespaces),
                "programs in namespaces cannot be checkpointed");
        line(lines, vdso(), "vdso areas: " + String.join(" ", vdsoAreas),
                "no vdso: time calls go through the kernel");
        return lines;
    }

    private static void line(List<String> lines, boolean ok, String what, String meaning) {
        lines.add(ok ? "ok   " + what : "no   " + what + ": " + meaning);
    }

    /** This record as one JSON object, for scripts. */
    public String toJson() {
        var j = new StringBuilder("{");
        field(j, "kernelRelease", quote(kernelRelease));
        field(j, "pageSize", pageSize);
        field(j, "ptraceSeize", ptraceSeize);
        field(j, "xsaveSize", xsaveSize);
        field(j, "xcr0", xcr0);
        field(j, "userfaultfd", userfaultfd);
        field(j, "uffdFeatures", uffdFeatures);
        field(j, "uffdWpAsync", uffdWpAsync());
        field(j, "pagemapScan", pagemapScan);
        field(j, "clone3", clone3);
        field(j, "clone3SetTid", clone3SetTid());
        field(j, "nsLastPid", nsLastPid);
        field(j, "namespaces", "[" + String.join(",", namespaces.stream().map(KernelFeatures::quote).toList()) + "]");
        field(j, "thpMode", quote(thpMode));
        field(j, "softDirty", softDirty);
        field(j, "prSetMmMap", prSetMmMap);
        field(j, "capSysResource", capSysResource);
        field(j, "capCheckpointRestore", capCheckpointRestore);
        field(j, "capSysAdmin", capSysAdmin);
        field(j, "vdsoAreas", "[" + String.join(",", vdsoAreas.stream().map(KernelFeatures::quote).toList()) + "]");
        return j.append('}').toString();
    }

    private static void field(StringBuilder j, String name, Object value) {
        if (j.length() > 1) j.append(',');
        j.append('"').append(name).append("\":").append(value);
    }

    private static String quote(String s) {
        var q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"', '\\' -> q.append('\\').append(c);
                default -> {
                    if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
                    else q.append(c);
                }
            }
        }
        return q.append('"').toString();
    }

    // ------------------------------------------------------------------ probes

    /**
     * Spawns /bin/sleep with posix_spawn (a ProcessBuilder child would be reaped by the JVM, which
     * swallows ptrace stops), seizes and interrupts it, reads its xsave area, and kills it.
     * Returns {xsave size, xcr0}, or null if ptrace does not work.
     */
    private static long[] probePtrace() {
        MemorySegment cs = Native.callState();
        try (Arena arena = Arena.ofConfined()) {
            int pid = spawnSleeper(arena);
            try {
                Native.check(Libc.ptrace(cs, Ptrace.PTRACE_SEIZE, pid, MemorySegment.NULL,
                        MemorySegment.ofAddress(Ptrace.PTRACE_O_EXITKILL)), cs, "ptrace(PTRACE_SEIZE, pid=" + pid + ")");
                Native.check(Libc.ptrace(cs, Ptrace.PTRACE_INTERRUPT, pid, MemorySegment.NULL, MemorySegment.NULL),
                        cs, "ptrace(PTRACE_INTERRUPT, pid=" + pid + ")");
                MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
                Native.check(Libc.waitpid(cs, pid, status, Wait.__WALL), cs, "waitpid(pid=" + pid + ")");
                if ((status.get(ValueLayout.JAVA_INT, 0) & 0xff) != 0x7f) return null; // not stopped
                MemorySegment area = arena.allocate(1 << 16, 64);
                MemorySegment iov = iovec.allocate(arena);
                iovec.iov_base(iov, area);
                iovec.iov_len(iov, area.byteSize());
                Native.check(Libc.ptrace(cs, Ptrace.PTRACE_GETREGSET, pid, MemorySegment.ofAddress(Ptrace.NT_X86_XSTATE), iov),
                        cs, "ptrace(PTRACE_GETREGSET, pid=" + pid + ", NT_X86_XSTATE)");
                return new long[] {iovec.iov_len(iov), area.get(ValueLayout.JAVA_LONG, XCR0_OFFSET)};
            } catch (SyscallException e) {
                return null;
            } finally {
                killAndReap(pid, arena);
            }
        } catch (SyscallException e) {
            return null; // the child could not be spawned
        }
    }

    private static int spawnSleeper(Arena arena) {
        MemorySegment cs = Native.callState();
        MemorySegment argv = arena.allocate(ValueLayout.ADDRESS, 3);
        argv.setAtIndex(ValueLayout.ADDRESS, 0, Native.cString(arena, "sleep"));
        argv.setAtIndex(ValueLayout.ADDRESS, 1, Native.cString(arena, "60")); // dies by itself if we do
        argv.setAtIndex(ValueLayout.ADDRESS, 2, MemorySegment.NULL);
        MemorySegment envp = arena.allocate(ValueLayout.ADDRESS, 1);
        MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
        Native.checkReturned(Libc.posix_spawnp(cs, pid, Native.cString(arena, "sleep"), MemorySegment.NULL,
                MemorySegment.NULL, argv, envp), "posix_spawnp(sleep)");
        return pid.get(ValueLayout.JAVA_INT, 0);
    }

    private static void killAndReap(int pid, Arena arena) {
        MemorySegment cs = Native.callState();
        Native.check(Libc.kill(cs, pid, Signal.SIGKILL), cs, "kill(pid=" + pid + ", SIGKILL)");
        MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
        // A stop reported before the kill may come first; the exit ends the loop (ECHILD ends it too).
        while (Libc.waitpid(cs, pid, status, Wait.__WALL) == pid) {
            int s = status.get(ValueLayout.JAVA_INT, 0);
            if ((s & 0xff) != 0x7f) return;
        }
    }

    /** The features UFFDIO_API offers, or -1 without userfaultfd. */
    private static long probeUserfaultfd() {
        MemorySegment cs = Native.callState();
        long fd = Libc.syscall(cs, SyscallsAmd64.SYS_userfaultfd, Fcntl.O_CLOEXEC | Userfaultfd.UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0);
        if (fd == -1 && Libc.errno(cs) == Errno.EINVAL) { // before Linux 5.11
            fd = Libc.syscall(cs, SyscallsAmd64.SYS_userfaultfd, Fcntl.O_CLOEXEC, 0, 0, 0, 0, 0);
        }
        if (fd == -1) return -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment api = uffdio_api.allocate(arena);
            uffdio_api.api(api, Userfaultfd.UFFD_API);
            uffdio_api.features(api, 0); // 0 asks for every feature the kernel has
            if (Libc.ioctl(cs, (int) fd, Userfaultfd.UFFDIO_API, api) == -1) return -1;
            return uffdio_api.features(api);
        } finally {
            Libc.close(cs, (int) fd);
        }
    }

    private static boolean probePagemapScan(long pageSize) {
        MemorySegment cs = Native.callState();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(pageSize, pageSize);
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            MemorySegment regions = page_region.allocateArray(1, arena);
            MemorySegment arg = pm_scan_arg.allocate(arena);
            pm_scan_arg.size(arg, pm_scan_arg.sizeof());
            pm_scan_arg.start(arg, page.address());
            pm_scan_arg.end(arg, page.address() + pageSize);
            pm_scan_arg.vec(arg, regions.address());
            pm_scan_arg.vec_len(arg, 1);
            pm_scan_arg.return_mask(arg, Pagemap.PAGE_IS_PRESENT);
            int fd = Libc.open(cs, Native.cString(arena, "/proc/self/pagemap"), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
            if (fd == -1) return false;
            try {
                return Libc.ioctl(cs, fd, Pagemap.PAGEMAP_SCAN, arg) >= 0;
            } finally {
                Libc.close(cs, fd);
            }
        }
    }

    /** A page we just wrote is soft-dirty in /proc/self/pagemap if and only if the kernel tracks it. */
    private static boolean probeSoftDirty(long pageSize) {
        MemorySegment cs = Native.callState();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(pageSize, pageSize);
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            MemorySegment entry = arena.allocate(ValueLayout.JAVA_LONG);
            int fd = Libc.open(cs, Native.cString(arena, "/proc/self/pagemap"), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
            if (fd == -1) return false;
            try {
                long n = Libc.pread(cs, fd, entry, 8, page.address() / pageSize * 8);
                return n == 8 && (entry.get(ValueLayout.JAVA_LONG, 0) & PM_SOFT_DIRTY) != 0;
            } finally {
                Libc.close(cs, fd);
            }
        }
    }

    /** clone3 with a too-small size fails with EINVAL where it exists, ENOSYS where not; it never forks. */
    private static boolean probeClone3() {
        MemorySegment cs = Native.callState();
        return Libc.syscall(cs, SyscallsAmd64.SYS_clone3, 0, 0, 0, 0, 0, 0) == -1 && Libc.errno(cs) != Errno.ENOSYS;
    }

    private static boolean probePrSetMmMap() {
        MemorySegment cs = Native.callState();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_INT);
            return Libc.syscall(cs, SyscallsAmd64.SYS_prctl, Prctl.PR_SET_MM, Prctl.PR_SET_MM_MAP_SIZE, size.address(), 0, 0, 0) == 0
                    && size.get(ValueLayout.JAVA_INT, 0) > 0;
        }
    }

    private static long capEff() {
        for (String line : readLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) return Long.parseUnsignedLong(line.substring(7).strip(), 16);
        }
        return 0;
    }

    private static String readThpMode() {
        Path enabled = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!Files.exists(enabled)) return "unavailable";
        String text = String.join(" ", readLines(enabled));
        int open = text.indexOf('['), close = text.indexOf(']');
        return open >= 0 && close > open ? text.substring(open + 1, close) : text.strip();
    }

    private static List<String> readVdsoAreas() {
        return readLines(Path.of("/proc/self/maps")).stream()
                .map(line -> line.substring(line.lastIndexOf(' ') + 1))
                .filter(name -> name.startsWith("[vdso") || name.startsWith("[vvar"))
                .distinct()
                .toList();
    }

    private static List<String> list(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + dir, e);
        }
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new HotcloneException("cannot read " + file + " (" + e.getMessage() + "): is /proc or /sys mounted?", e);
        }
    }
}
