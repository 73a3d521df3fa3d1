package io.hotclone.capture.memory;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * /proc/PID/pagemap (proc_pid_pagemap(5)): one 64-bit entry per virtual page, saying whether
 * the page is present, swapped, and whether it is file-backed or shared-anonymous.
 */
final class Pagemap implements AutoCloseable {
    static final long PRESENT = 1L << 63;
    static final long SWAPPED = 1L << 62;
    /** File page or shared anonymous page: for a private file mapping, not yet written. */
    static final long FILE_OR_SHARED = 1L << 61;
    /** The swap-type bits of a swapped entry. */
    private static final long SWAP_TYPE = 0x1f;
    private static final int BATCH = 64 * 1024;

    /**
     * Whether a swapped entry is no page at all but a marker, such as the one userfaultfd
     * write-protect leaves on a never-touched page: markers use the last swap type, which no
     * swap device can have.
     */
    static boolean marker(long entry) {
        return (entry & SWAPPED) != 0 && (entry & SWAP_TYPE) == SWAP_TYPE;
    }

    private final int pid;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BATCH * 8).order(ByteOrder.LITTLE_ENDIAN);

    Pagemap(int pid) {
        this.pid = pid;
        try {
            channel = FileChannel.open(Path.of("/proc", Integer.toString(pid), "pagemap"), StandardOpenOption.READ);
        } catch (IOException e) {
            throw new HotcloneException("cannot open /proc/" + pid + "/pagemap: " + e.getMessage(), e);
        }
    }

    /** Fills {@code entries} with the entries of the pages from {@code start}. */
    void read(long start, long[] entries, int count) {
        int done = 0;
        while (done < count) {
            int n = Math.min(BATCH, count - done);
            buffer.clear().limit(n * 8);
            long position = (start / 4096 + done) * 8;
            try {
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer, position + buffer.position()) < 0) {
                        throw new IOException("end of file");
                    }
                }
            } catch (IOException e) {
                throw new HotcloneException("cannot read /proc/" + pid + "/pagemap at 0x"
                        + Long.toHexString(start + done * 4096L) + ": " + e.getMessage(), e);
            }
            buffer.flip();
            buffer.asLongBuffer().get(entries, done, n);
            done += n;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only procfs file: nothing to flush
        }
    }
}
