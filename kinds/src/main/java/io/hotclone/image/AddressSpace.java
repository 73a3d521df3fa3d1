package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Fcntl.O_RDWR;
import static io.hotclone.bindings.linux.Mman.MAP_ANONYMOUS;
import static io.hotclone.bindings.linux.Mman.MAP_FIXED;
import static io.hotclone.bindings.linux.Mman.MAP_GROWSDOWN;
import static io.hotclone.bindings.linux.Mman.MAP_PRIVATE;
import static io.hotclone.bindings.linux.Mman.MAP_SHARED;
import static io.hotclone.bindings.linux.Mman.MREMAP_FIXED;
import static io.hotclone.bindings.linux.Mman.MREMAP_MAYMOVE;
import static io.hotclone.bindings.linux.Ipc.SHM_EXEC;
import static io.hotclone.bindings.linux.Ipc.SHM_RDONLY;
import static io.hotclone.bindings.linux.Mman.PROT_EXEC;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mmap;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mprotect;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mremap;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_munmap;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shmat;

/**
 * The restore of the memory areas ({@link MemoryArea}, dumped by {@link AreaClassifier}): rebuilds
 * an address space from an image inside the host process: unmap what the exec left, move the
 * vDSO and vvar pages where the program expects them, map every area (writable, for the pages
 * the restore then writes), then set the final protections.
 */
public final class AddressSpace {
    private static final long LOWEST = 0x10000;

    private final RemoteSyscalls remote;

    public AddressSpace(RemoteSyscalls remote) {
        this.remote = remote;
    }

    /** An address where {@code length} bytes are free both now and in the image. */
    public static long freeRange(List<MapsEntry> now, List<MemoryArea> image, long length) {
        List<long[]> used = new ArrayList<>();
        now.forEach(m -> used.add(new long[] {m.start(), m.end()}));
        image.forEach(a -> used.add(new long[] {a.start(), a.end()}));
        used.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        long candidate = LOWEST;
        for (long[] u : used) {
            if (Long.compareUnsigned(candidate + length, u[0]) <= 0) {
                return candidate;
            }
            if (Long.compareUnsigned(u[1], candidate) > 0) {
                candidate = u[1];
            }
        }
        return candidate;
    }

    /** Unmaps every mapping of the exec'd host except the kernel's and the scratch area. */
    public void clear(List<MapsEntry> now) {
        for (MapsEntry m : now) {
            if (!special(m.name()) && m.start() != remote.scratch()) {
                remote.check("munmap(0x" + Long.toHexString(m.start()) + ")", SYS_munmap, m.start(), m.length());
            }
        }
    }

    /**
     * Moves [vvar], [vvar_vclock] and [vdso] to the image's addresses: first all out of the way
     * to {@code parking} (they may overlap their own targets), then each to its place.
     */
    public void moveVdso(List<MapsEntry> now, List<MemoryArea> image, long parking) {
        Map<String, MapsEntry> current = new HashMap<>();
        now.stream().filter(m -> special(m.name()) && !m.name().equals("[vsyscall]"))
                .forEach(m -> current.put(m.name(), m));
        Map<String, MemoryArea> wanted = new HashMap<>();
        image.stream().filter(a -> special(a.path()) && a.kind() != AreaKind.VSYSCALL)
                .forEach(a -> wanted.put(a.path(), a));
        if (!current.keySet().equals(wanted.keySet())) {
            throw new HotcloneException("the image has kernel mappings " + wanted.keySet() + " but this kernel has "
                    + current.keySet() + ": restore the image on a node with the kernel that captured it");
        }
        long offset = 0;
        Map<String, Long> parked = new HashMap<>();
        for (MapsEntry m : current.values()) {
            MemoryArea target = wanted.get(m.name());
            if (target.length() != m.length()) {
                throw new HotcloneException("the image's " + m.name() + " is " + target.length()
                        + " bytes but this kernel's is " + m.length()
                        + ": restore the image on a node with the kernel that captured it");
            }
            long to = parking + offset;
            move(m.name(), m.start(), m.length(), to);
            parked.put(m.name(), to);
            offset += m.length();
        }
        for (MemoryArea target : wanted.values()) {
            move(target.path(), parked.get(target.path()), target.length(), target.start());
        }
    }

    private void move(String name, long from, long length, long to) {
        remote.check("mremap(" + name + " to 0x" + Long.toHexString(to) + ")", SYS_mremap, from, length, length,
                MREMAP_MAYMOVE | MREMAP_FIXED, to);
        if (name.equals("[vdso]")) {
            remote.vdsoMoved(to - from);
        }
    }

    /** Maps every area of the image that is not the kernel's, writable where pages will be filled. */
    public void map(List<MemoryArea> areas) {
        Map<String, Long> fds = new HashMap<>();
        try {
            for (MemoryArea a : areas) {
                if (special(a.path())) {
                    continue;
                }
                if (a.kind() == AreaKind.SYSV_SHM) {
                    attach(a);
                    continue;
                }
                int prot = a.hasContents() ? a.prot() | PROT_WRITE : a.prot();
                int flags = MAP_FIXED | (a.shared() ? MAP_SHARED : MAP_PRIVATE);
                long fd = -1;
                switch (a.kind()) {
                    case FILE -> {
                        boolean writable = a.shared() && (a.prot() & PROT_WRITE) != 0;
                        fd = fds.computeIfAbsent(a.path() + (writable ? " rw" : " ro"), k -> open(a.path(), writable));
                    }
                    case STACK -> flags |= MAP_ANONYMOUS | MAP_GROWSDOWN;
                    default -> flags |= MAP_ANONYMOUS;
                }
                remote.check("mmap(" + describe(a) + ")", SYS_mmap, a.start(), a.length(), prot, flags, fd,
                        a.offset());
            }
        } finally {
            for (long fd : fds.values()) {
                remote.call(SYS_close, fd);
            }
        }
    }

    /**
     * Attaches the System V segment {@code a} maps (its id is the area's inode), made in the
     * program's IPC namespace before, where the area was, then gives it the area's protection.
     */
    private void attach(MemoryArea a) {
        int shmid = (int) a.file().inode();
        int flags = ((a.prot() & PROT_WRITE) == 0 ? SHM_RDONLY : 0) | ((a.prot() & PROT_EXEC) != 0 ? SHM_EXEC : 0);
        remote.check("shmat(" + describe(a) + ")", SYS_shmat, shmid, a.start(), flags);
        remote.check("mprotect(" + describe(a) + ")", SYS_mprotect, a.start(), a.length(), a.prot());
    }

    /**
     * Brings mappings {@code had} (as {@link #map} left them: every area with contents writable)
     * to {@code now}, keeping the contents of every area that is the same mapping in both (same
     * start, kind, sharing, file and offset, as the capture's chain counts them): such an area
     * grows or shrinks at its end and takes its new protection; the others are unmapped or mapped
     * afresh. The special areas (vDSO, vvar) must not have changed.
     */
    public void reconcile(List<MemoryArea> had, List<MemoryArea> now) {
        Map<Long, MemoryArea> before = new HashMap<>();
        had.forEach(a -> before.put(a.start(), a));
        Map<Long, MemoryArea> after = new HashMap<>();
        now.forEach(a -> after.put(a.start(), a));
        for (MemoryArea a : had) {
            MemoryArea b = after.get(a.start());
            if (special(a.path())) {
                continue;
            }
            if (b == null || !sameMapping(a, b)) {
                remote.check("munmap(" + describe(a) + ")", SYS_munmap, a.start(), a.length());
            } else if (Long.compareUnsigned(b.end(), a.end()) < 0) {
                remote.check("munmap(the end of " + describe(a) + ")", SYS_munmap, b.end(), a.end() - b.end());
            }
        }
        List<MemoryArea> fresh = new ArrayList<>();
        for (MemoryArea b : now) {
            MemoryArea a = before.get(b.start());
            if (special(b.path())) {
                continue;
            }
            if (a == null || !sameMapping(a, b)) {
                fresh.add(b);
                continue;
            }
            if (Long.compareUnsigned(b.end(), a.end()) > 0) {
                fresh.add(new MemoryArea(a.end(), b.end(), b.prot(), b.shared(), b.kind(), b.path(),
                        b.offset() + (a.end() - a.start()), b.file(), b.sinceSeq()));
            }
            if (a.prot() != b.prot()) {
                int prot = b.hasContents() ? b.prot() | PROT_WRITE : b.prot();
                remote.check("mprotect(" + describe(b) + ")", SYS_mprotect, b.start(), Math.min(a.length(), b.length()), prot);
            }
        }
        map(fresh);
    }

    /** Whether {@code b} is the mapping {@code a} was, perhaps grown, shrunk or protected otherwise. */
    public static boolean sameMapping(MemoryArea a, MemoryArea b) {
        return a.start() == b.start() && a.kind() == b.kind() && a.shared() == b.shared() && a.path().equals(b.path())
                && a.offset() == b.offset();
    }

    private long open(String path, boolean writable) {
        long address = remote.putString(0, path);
        return remote.check("openat(" + path + ") to map it", io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat,
                AT_FDCWD, address, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
    }

    /** Drops the write permission that {@link #map} added for filling. */
    public void protect(List<MemoryArea> areas) {
        for (MemoryArea a : areas) {
            if (!special(a.path()) && a.hasContents() && (a.prot() & PROT_WRITE) == 0) {
                remote.check("mprotect(" + describe(a) + ")", SYS_mprotect, a.start(), a.length(), a.prot());
            }
        }
    }

    public static boolean special(String name) {
        return name.equals("[vdso]") || name.equals("[vvar]") || name.equals("[vvar_vclock]")
                || name.equals("[vsyscall]");
    }

    private static String describe(MemoryArea a) {
        return "0x" + Long.toHexString(a.start()) + "-0x" + Long.toHexString(a.end()) + " " + a.kind()
                + (a.kind() == AreaKind.FILE ? " " + a.path() : a.kind() == AreaKind.SYSV_SHM ? " " + a.file().inode() : "");
    }
}
