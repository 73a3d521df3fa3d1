package io.hotclone.jmh;

import io.hotclone.bindings.CallState;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.capture.dirty.UffdWpTracker;
import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Mman.MADV_DONTNEED;
import static io.hotclone.bindings.linux.Mman.MADV_HUGEPAGE;
import static io.hotclone.bindings.linux.Mman.MADV_NOHUGEPAGE;
import static io.hotclone.bindings.linux.Mman.MAP_ANONYMOUS;
import static io.hotclone.bindings.linux.Mman.MAP_NORESERVE;
import static io.hotclone.bindings.linux.Mman.MAP_PRIVATE;
import static io.hotclone.bindings.linux.Mman.PROT_READ;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_userfaultfd;
import static io.hotclone.bindings.linux.Userfaultfd.UFFD_USER_MODE_ONLY;

/**
 * Private anonymous memory of the benchmark's own JVM, 2 MiB-aligned, tracked the way hotclone
 * tracks a program's (the kernel does the same work for a userfaultfd created here as for one
 * pulled out of another process). Thread-confined, like the tracker.
 */
final class OwnArea implements AutoCloseable {
    static final int PAGE = 4096;
    private static final long HUGE = 2L << 20;

    private final CallState call = new CallState();
    private final MemorySegment mapping;
    /** The aligned part the benchmark uses. */
    final MemorySegment memory;

    /** Maps {@code length} bytes, backed by transparent huge pages or by 4 KiB pages only. */
    OwnArea(long length, boolean hugePages) {
        mapping = Libc.mmap(call.segment(), MemorySegment.NULL, length + HUGE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0).reinterpret(length + HUGE);
        call.check(mapping.address(), "mmap(" + (length + HUGE) + ")");
        long aligned = (mapping.address() + HUGE - 1) & -HUGE;
        memory = mapping.asSlice(aligned - mapping.address(), length);
        call.check(Libc.madvise(call.segment(), memory, length, hugePages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE),
                "madvise(" + (hugePages ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE") + ")");
    }

    long pages() {
        return memory.byteSize() / PAGE;
    }

    /** Writes one byte in every {@code stride}-th page, starting at page {@code first}. */
    void write(long first, long stride) {
        for (long p = first; p < pages(); p += stride) {
            memory.set(ValueLayout.JAVA_BYTE, p * PAGE, (byte) p);
        }
    }

    /** Gives every page back to the kernel: the next touch allocates it again. */
    void discard() {
        call.check(Libc.madvise(call.segment(), memory, memory.byteSize(), MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    }

    /** Arms asynchronous write-protect on this memory with a userfaultfd of this process. */
    UffdWpTracker track() {
        int uffd = (int) call.check(Libc.syscall(call.segment(), SYS_userfaultfd,
                O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0, 0), "userfaultfd");
        MemoryArea area = new MemoryArea(memory.address(), memory.address() + memory.byteSize(),
                PROT_READ | PROT_WRITE, false, AreaKind.ANONYMOUS, "", 0, null, 1);
        return UffdWpTracker.adopt((int) ProcessHandle.current().pid(), uffd, List.of(area));
    }

    @Override
    public void close() {
        Libc.munmap(call.segment(), mapping, mapping.byteSize());
        call.close();
    }
}
