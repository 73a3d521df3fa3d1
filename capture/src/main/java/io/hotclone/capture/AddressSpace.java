package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The address space a process has now, to tell later whether it still has it: an exec gives it a
 * new one, and everything opened on the old one (pagemap, userfaultfd, protections) then acts on
 * nothing. /proc/PID/pagemap opened now stays bound to this address space, and reads as end of
 * file once it is gone; one entry costs one small read, cheap enough for every checkpoint.
 *
 * <p>Thread confinement: the thread that made it.
 */
final class AddressSpace implements AutoCloseable {
    private final FileChannel pagemap;
    private final ByteBuffer entry = ByteBuffer.allocateDirect(Long.BYTES);

    AddressSpace(int pid) {
        try {
            pagemap = FileChannel.open(Path.of("/proc", Integer.toString(pid), "pagemap"), StandardOpenOption.READ);
        } catch (IOException e) {
            throw new HotcloneException("cannot open /proc/" + pid + "/pagemap (" + e.getMessage()
                    + "): is process " + pid + " still alive?", e);
        }
    }

    /** Whether the process still has the address space it had when this was made (no exec since). */
    boolean current() {
        try {
            return pagemap.read(entry.clear(), 0) > 0;
        } catch (IOException e) {
            return false; // the process is gone: its end is noticed elsewhere
        }
    }

    @Override
    public void close() {
        try {
            pagemap.close();
        } catch (IOException e) {
            // a procfs file opened for reading: nothing to flush
        }
    }
}
