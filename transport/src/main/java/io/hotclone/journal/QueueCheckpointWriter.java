package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.ZombieState;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Appends one checkpoint through its own Chronicle appender, confined to the thread that began it
 * (appenders are thread-bound). Each record is one queue document: envelope, then payload.
 */
final class QueueCheckpointWriter implements CheckpointWriter {
    private static final MemorySegment NO_PAGES = MemorySegment.ofArray(new byte[0]);

    private final QueueAppend out;
    private final ImageHeader header;
    private final DiskRoom room;
    private final JournalIndex index;
    private final WriterSlot.Lease lease;
    private final Thread owner = Thread.currentThread();
    private final Wire scratch = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap(1024));
    private final long firstIndex;
    private boolean process;
    private int areas;
    private int fds;
    private long pageBytes;
    private boolean done;

    /**
     * Writes the header record at once: from then on the seq is taken, committed or not. The
     * writer appends through {@code out}, within the {@code room} of the disk, indexes its
     * checkpoint in {@code index} when committed and gives {@code lease} back when done.
     */
    QueueCheckpointWriter(QueueAppend out, ImageHeader header, DiskRoom room, JournalIndex index, WriterSlot.Lease lease) {
        this.out = out;
        this.header = header;
        this.room = room;
        this.index = index;
        this.lease = lease;
        try {
            append(header);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        this.firstIndex = out.lastIndex();
    }

    /**
     * Checks what a header must be for this writer to write its checkpoint: of this journal
     * format, and of a page size page records can hold.
     *
     * @throws IllegalArgumentException if it is not
     */
    static void checkHeader(ImageHeader header) {
        if (header.formatVersion() != JournalFormat.FORMAT_VERSION) {
            throw new IllegalArgumentException("header of seq " + header.seq() + " has format " + header.formatVersion()
                    + "; this journal writes format " + JournalFormat.FORMAT_VERSION);
        }
        int pageSize = header.pageSize();
        if (pageSize <= 0 || Integer.bitCount(pageSize) != 1 || pageSize > JournalFormat.MAX_RUN_BYTES) {
            throw new IllegalArgumentException("header of seq " + header.seq() + " has page size " + pageSize
                    + ": not a power of two up to " + JournalFormat.MAX_RUN_BYTES);
        }
    }

    @Override
    public void process(ProcessState p) {
        checkOpen();
        append(p);
        process = true;
    }

    @Override
    public void thread(ThreadState t) {
        checkOpen();
        append(t);
    }

    @Override
    public void area(MemoryArea a) {
        checkOpen();
        append(a);
        areas++;
    }

    @Override
    public void fd(FdState f) {
        checkOpen();
        append(f);
        fds++;
    }

    @Override
    public void zombie(ZombieState z) {
        checkOpen();
        append(z);
    }

    @Override
    public void ipc(SysvIpc object) {
        checkOpen();
        append(object);
    }

    @Override
    public void pages(long address, MemorySegment contents) {
        checkOpen();
        long size = contents.byteSize();
        checkRun(address, size);
        for (long offset = 0; offset < size; offset += JournalFormat.MAX_RUN_BYTES) {
            MemorySegment run = contents.asSlice(offset, Math.min(JournalFormat.MAX_RUN_BYTES, size - offset));
            byte[] head = new byte[Envelope.PAGE_HEAD];
            ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(Envelope.SIZE, address + offset);
            write(RecordType.PAGES, head, run);
        }
        pageBytes += size;
    }

    @Override
    public void pages(long[] addresses, long[] lengths, int count, MemorySegment contents) {
        if (count == 1) {
            pages(addresses[0], contents);
            return;
        }
        checkOpen();
        if (count < 1 || count > MAX_RUNS) {
            throw new IllegalArgumentException(count + " runs in one page record: 1 to " + MAX_RUNS);
        }
        long total = 0;
        for (int i = 0; i < count; i++) {
            checkRun(addresses[i], lengths[i]);
            total += lengths[i];
        }
        if (total != contents.byteSize() || total > JournalFormat.MAX_RUN_BYTES) {
            throw new IllegalArgumentException("runs of " + total + " bytes given " + contents.byteSize()
                    + " bytes of contents (at most " + JournalFormat.MAX_RUN_BYTES + " in one record)");
        }
        byte[] head = new byte[Envelope.runsHead(count)];
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putInt(Envelope.SIZE, count);
        for (int i = 0; i < count; i++) {
            b.putLong(Envelope.SIZE + Long.BYTES + 16 * i, addresses[i]).putLong(Envelope.SIZE + 2 * Long.BYTES + 16 * i, lengths[i]);
        }
        write(RecordType.PAGE_RUNS, head, contents);
        pageBytes += total;
    }

    private void checkRun(long address, long size) {
        int pageSize = header.pageSize();
        if (size <= 0 || size % pageSize != 0 || address % pageSize != 0) {
            throw new IllegalArgumentException(String.format(
                    "page run of %d bytes at 0x%x is not whole pages of %d bytes", size, address, pageSize));
        }
    }

    @Override
    public void commit(Commit c) {
        checkOpen();
        if (c.seq() != header.seq()) {
            throw new IllegalArgumentException("commit of seq " + c.seq() + " given to the writer of checkpoint seq "
                    + header.seq());
        }
        if (!process) {
            throw new IllegalStateException("checkpoint seq " + header.seq()
                    + " has no process record: write it before the commit");
        }
        long pages = pageBytes / header.pageSize();
        if (c.areas() != areas || c.fds() != fds || c.pages() != pages || c.pageBytes() != pageBytes) {
            throw new IllegalArgumentException(String.format(
                    "commit of seq %d counts %d areas, %d fds, %d pages (%d bytes) but the writer wrote %d areas, %d fds, %d pages (%d bytes)",
                    c.seq(), c.areas(), c.fds(), c.pages(), c.pageBytes(), areas, fds, pages, pageBytes));
        }
        int crc = append(c);
        long lastIndex = out.lastIndex();
        done = true;
        out.close();
        // Indexed before the slot is free: a checkpoint begun next may build on this one.
        index.add(new JournalScan.Entry(header, c, firstIndex, lastIndex, crc));
        lease.committed();
    }

    @Override
    public void close() {
        if (done) {
            return;
        }
        checkOpen();
        done = true;
        out.close();
        lease.released();
    }

    private void checkOpen() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("the writer of checkpoint seq " + header.seq() + " belongs to thread "
                    + owner.getName() + " (Chronicle appenders are thread-bound): call it from that thread");
        }
        if (done) {
            throw new IllegalStateException("the writer of checkpoint seq " + header.seq() + " is already "
                    + "committed or closed");
        }
    }

    /** Appends {@code record} and returns its CRC. */
    private int append(Object record) {
        scratch.clear();
        scratch.bytes().writeSkip(Envelope.SIZE);
        RecordType type = ImageCodec.encode(record, scratch);
        return write(type, scratch.bytes().toByteArray(), NO_PAGES);
    }

    /** Seals {@code head} (envelope + payload, or envelope + page address), appends it with
     *  {@code pages} (maybe empty) and returns its CRC. */
    private int write(RecordType type, byte[] head, MemorySegment pages) {
        room.reserve(head.length + pages.byteSize(), header.seq());
        int crc = Envelope.seal(head, type, header.epoch(), header.seq(), pages);
        out.append(type, header.seq(), head, pages);
        return crc;
    }
}
