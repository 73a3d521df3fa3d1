package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.iovec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Copies between hotclone and another process's memory with process_vm_readv/writev: one copy,
 * no stop needed, and batches of scattered ranges in one call. Thread-confined.
 */
public final class RemoteMemory implements AutoCloseable {
    /** The kernel's UIO_MAXIOV. */
    public static final int MAX_RANGES = 1024;

    private final int pid;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = arena.allocate(Libc.callStateLayout());
    private final MemorySegment localIov = iovec.allocate(arena);
    private final MemorySegment remoteIovs = arena.allocate(iovec.layout(), MAX_RANGES);

    public RemoteMemory(int pid) {
        this.pid = pid;
    }

    /** Writes all of {@code local} at {@code remote}; the target pages must be writable. */
    public void write(long remote, MemorySegment local) {
        if (!local.isNative()) {
            try (Arena copy = Arena.ofConfined()) {
                write(remote, copy.allocate(local.byteSize(), 8).copyFrom(local));
            }
            return;
        }
        long done = 0;
        while (done < local.byteSize()) {
            setIov(localIov, local.address() + done, local.byteSize() - done);
            setIov(remoteIovs, remote + done, local.byteSize() - done);
            long n = Libc.process_vm_writev(callState, pid, localIov, 1, remoteIovs, 1, 0);
            if (n <= 0) {
                throw failure("process_vm_writev", remote + done, local.byteSize() - done, n);
            }
            done += n;
        }
    }

    /** Reads {@code local.byteSize()} bytes at {@code remote}; the pages must be readable. */
    public void read(long remote, MemorySegment local) {
        readv(local, new long[] {remote}, new long[] {local.byteSize()}, 1);
    }

    /**
     * Reads {@code count} remote ranges, back to back, into {@code local}.
     *
     * @throws HotcloneException naming the first range that could not be read whole
     */
    public void readv(MemorySegment local, long[] addresses, long[] lengths, int count) {
        long total = 0;
        for (int i = 0; i < count; i++) {
            setIov(remoteIovs.asSlice(i * iovec.sizeof(), iovec.sizeof()), addresses[i], lengths[i]);
            total += lengths[i];
        }
        setIov(localIov, local.address(), total);
        long n = Libc.process_vm_readv(callState, pid, localIov, 1, remoteIovs, count, 0);
        if (n != total) {
            long at = n < 0 ? 0 : n;
            int i = 0;
            while (i < count - 1 && at >= lengths[i]) {
                at -= lengths[i++];
            }
            throw failure("process_vm_readv", addresses[i] + at, lengths[i] - at, n);
        }
    }

    private HotcloneException failure(String call, long address, long length, long result) {
        String what = call + " of pid " + pid + " at 0x" + Long.toHexString(address) + " (" + length + " bytes)";
        if (result < 0) {
            return new SyscallException(what, Libc.errno(callState));
        }
        return new HotcloneException(what + " stopped short after " + Math.max(result, 0)
                + " bytes: the mapping changed or is not accessible");
    }

    private static void setIov(MemorySegment iov, long base, long len) {
        iovec.iov_base(iov, MemorySegment.ofAddress(base));
        iovec.iov_len(iov, len);
    }

    @Override
    public void close() {
        arena.close();
    }
}
