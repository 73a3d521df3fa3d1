package io.hotclone.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.MappedBytes;

import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Moves page contents between memory and the queue files with pwrite and pread, beside
 * Chronicle's mapping of them, which still frames every record (its header and envelope).
 *
 * <p>Why: a page first touched through a mapping costs a page fault, and in a VM a fault can
 * cost more than copying the page; pwrite and pread copy through the kernel's own mapping of the
 * page cache instead. A file's reads and writes are coherent with its shared mappings, so
 * Chronicle sees what was written.
 *
 * <p>One channel per queue file, opened on first use, closed with this. Not thread-safe.
 */
final class QueueFileIo implements AutoCloseable {
    /**
     * The most one pwrite writes, and a good size for a read: a piece stays in the CPU's cache
     * between its copy and its CRC. Larger writes into new parts of a file were 4 to 8 times
     * slower here (0.8 to 1.6 s for 1 GiB in 8 MiB writes, 0.2 s in 1 MiB writes): the kernel
     * then caches them in larger folios, which seem to come from memory the hypervisor has
     * taken back and must fault in again.
     */
    static final int PIECE = 1 << 20;

    private final boolean write;
    private final Map<File, FileChannel> channels = new HashMap<>();

    private QueueFileIo(boolean write) {
        this.write = write;
    }

    static QueueFileIo forWriting() {
        return new QueueFileIo(true);
    }

    static QueueFileIo forReading() {
        return new QueueFileIo(false);
    }

    /** The queue file whose mapping {@code bytes} (a document's bytes) are. */
    static File fileOf(Bytes<?> bytes) {
        if (bytes instanceof MappedBytes mapped) {
            return mapped.mappedFile().file();
        }
        throw new IllegalStateException("a journal document's bytes are " + bytes.getClass().getName()
                + ", not a queue file's mapping: the journal queue must not buffer its writes");
    }

    /**
     * Writes {@code contents} into the queue file at the write position of {@code bytes} (a
     * document being written, whose positions are file offsets) and moves that position past them.
     */
    void append(Bytes<?> bytes, MemorySegment contents) throws IOException {
        long at = bytes.writePosition();
        FileChannel channel = channel(fileOf(bytes));
        for (long done = 0; done < contents.byteSize(); done += PIECE) {
            ByteBuffer from = contents.asSlice(done, Math.min(PIECE, contents.byteSize() - done)).asByteBuffer();
            while (from.hasRemaining()) {
                channel.write(from, at + done + from.position());
            }
        }
        bytes.writeSkip(contents.byteSize());
    }

    /** Fills {@code into} with the bytes of {@code file} from {@code offset}. */
    void read(File file, long offset, MemorySegment into) throws IOException {
        ByteBuffer to = into.asByteBuffer();
        FileChannel channel = channel(file);
        while (to.hasRemaining()) {
            if (channel.read(to, offset + to.position()) < 0) {
                throw new EOFException(file + " ends at " + (offset + to.position()) + ", inside a record");
            }
        }
    }

    private FileChannel channel(File file) throws IOException {
        FileChannel channel = channels.get(file);
        if (channel == null) {
            channel = FileChannel.open(file.toPath(), write ? StandardOpenOption.WRITE : StandardOpenOption.READ);
            channels.put(file, channel);
        }
        return channel;
    }

    @Override
    public void close() {
        for (FileChannel channel : channels.values()) {
            try {
                channel.close();
            } catch (IOException e) {
                // what was written is in the page cache already: closing flushes nothing
            }
        }
        channels.clear();
    }
}
