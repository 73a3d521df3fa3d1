package io.hotclone.capture.memory;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.hotclone.bindings.linux.Mman.MADV_HUGEPAGE;
import static io.hotclone.bindings.linux.Mman.MAP_ANONYMOUS;
import static io.hotclone.bindings.linux.Mman.MAP_FAILED;
import static io.hotclone.bindings.linux.Mman.MAP_PRIVATE;
import static io.hotclone.bindings.linux.Mman.PROT_READ;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;

/**
 * Anonymous memory faulted in when made, in transparent huge pages where the kernel gives them:
 * a first touch costs ~13 us per 4 KiB page in this VM, so memory written under a freeze is made
 * before it, and a huge page takes one fault for 512 pages. Any thread may use it; close it
 * once no thread does.
 */
public final class FaultedMemory implements AutoCloseable {
    private final MemorySegment segment;

    public FaultedMemory(long size) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment callState = local.allocate(Libc.callStateLayout());
            MemorySegment m = Libc.mmap(callState, MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m.address() == MAP_FAILED) {
                throw new SyscallException("mmap(" + size + " bytes of anonymous memory)", Libc.errno(callState));
            }
            // Only a hint: where THP is off, each 4 KiB page is faulted in by itself below.
            Libc.madvise(callState, m, size, MADV_HUGEPAGE);
            segment = m.reinterpret(size);
        }
        for (long page = 0; page < size; page += 4096) {
            segment.set(ValueLayout.JAVA_BYTE, page, (byte) 0);
        }
    }

    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void close() {
        try (Arena local = Arena.ofConfined()) {
            Libc.munmap(local.allocate(Libc.callStateLayout()), segment, segment.byteSize());
        }
    }
}
