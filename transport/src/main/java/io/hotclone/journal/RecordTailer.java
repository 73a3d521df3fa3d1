package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.journal.Envelope.BadRecord;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Reads the records of a journal in queue order as they are appended, for a replication sender.
 * Never blocks: at the end of the journal it returns null, and the caller polls again. Records
 * of a checkpoint still being written come as soon as they are appended, before its commit.
 *
 * <p>Page contents are read with pread (see {@link QueueFileIo}), like {@link Journal#pages}:
 * a writer puts them in the file with pwrite, so the reader's mapping would take a fault per page.
 * Confined to the thread that made it (Chronicle tailers are thread-bound).
 */
public final class RecordTailer implements AutoCloseable {
    private final Path dir;
    private final ExcerptTailer tailer;
    private final JournalIndex index;
    private final QueueFileIo files = QueueFileIo.forReading();
    /** Holds the record last read: native, so that pread fills it with no copy on the way. */
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(Envelope.MAX_PAGE_HEAD + JournalFormat.MAX_RUN_BYTES);

    RecordTailer(Path dir, ExcerptTailer tailer, JournalIndex index) {
        this.dir = dir;
        this.tailer = tailer;
        this.index = index;
    }

    /** The next record, copied into this tailer's buffer, or null at the end of the journal. */
    public RawRecord next() {
        return read(true, true);
    }

    /** The head of the next record without moving past it, or null at the end of the journal. */
    public RawRecord.Head peek() {
        RawRecord r = read(false, false);
        return r == null ? null : r.head();
    }

    /** Moves past the next record without copying it; false at the end of the journal. */
    public boolean skip() {
        return read(true, false) != null;
    }

    /**
     * Positions this tailer for a journal left inside checkpoint {@code tornSeq} (by a crash or a
     * cut link): moves past the records of older checkpoints (abandoned ones: the other journal
     * committed nothing after where this tailer started) to the next checkpoint's header. True if
     * that checkpoint, or the next this journal will write when none is here yet, is {@code tornSeq}
     * (its header comes again and the torn copy stays behind, abandoned) or a later one. The torn
     * copy need not match this journal's record for record: a process killed while appending a
     * header leaves a copy that no journal holds.
     */
    public boolean resumes(long tornSeq) {
        for (RawRecord.Head head = peek(); head != null; head = peek()) {
            if (head.header() && head.seq() >= tornSeq) {
                return true;
            }
            skip();
        }
        return index.nextSeq() >= tornSeq;
    }

    @Override
    public void close() {
        files.close();
        tailer.close();
        arena.close();
    }

    private RawRecord read(boolean advance, boolean copy) {
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            if (!advance) {
                dc.rollbackOnClose();
            }
            Envelope.Stored r = stored(dc);
            RawRecord.Head head = head(r);
            return new RawRecord(head, copy ? copy(r, head) : null);
        }
    }

    /** The record of an open, present document, as a view of the mapped file valid while it is open. */
    private static Envelope.Stored stored(DocumentContext dc) {
        Bytes<?> bytes = dc.wire().bytes();
        long start = bytes.readPosition();
        long length = bytes.readRemaining();
        // The two-argument form guarantees the whole document is contiguous in one mapping.
        long address = bytes.addressForRead(start, (int) length);
        return new Envelope.Stored(dc.index(), MemorySegment.ofAddress(address).reinterpret(length),
                QueueFileIo.fileOf(bytes), start);
    }

    private RawRecord.Head head(Envelope.Stored r) {
        try {
            RecordType type = r.type();
            RawRecord.Kind kind = switch (type.role()) {
                case HEADER -> ((ImageHeader) ImageCodec.decode(type, r)).kind()
                        == CheckpointKind.FULL ? RawRecord.Kind.FULL_HEADER : RawRecord.Kind.INCREMENTAL_HEADER;
                case COMMIT -> RawRecord.Kind.COMMIT;
                case PROCESS, AREA, FD, PAGES, STATE -> RawRecord.Kind.OTHER;
            };
            return new RawRecord.Head(kind, r.seq(), r.epoch(), r.storedCrc());
        } catch (BadRecord | RuntimeException e) {
            throw new JournalException("journal " + dir + ", index " + JournalFormat.formatIndex(r.index())
                    + ": cannot be shipped: " + e.getMessage() + "; `hotclone journal verify " + dir
                    + "` lists every problem", e);
        }
    }

    private MemorySegment copy(Envelope.Stored r, RawRecord.Head head) {
        long size = r.bytes().byteSize();
        if (size > buffer.byteSize()) {
            throw new JournalException("journal " + dir + ", checkpoint seq " + head.seq() + ", index "
                    + JournalFormat.formatIndex(r.index()) + ": a record of " + size + " bytes, more than this hotclone"
                    + " writes (written by a newer hotclone?)");
        }
        MemorySegment to = buffer.asSlice(0, size);
        boolean pages = RecordType.ofTag(r.tag()).map(RecordType::carriesPages).orElse(false);
        int headLength = pages ? r.pageHeadLength() : 0;
        if (!pages || size <= headLength) {
            to.copyFrom(r.bytes());
            return to;
        }
        to.copyFrom(r.bytes().asSlice(0, headLength));
        try {
            files.read(r.file(), r.pageContentsOffset(), to.asSlice(headLength));
        } catch (IOException e) {
            throw new JournalException("journal " + dir + ", checkpoint seq " + head.seq() + ", index "
                    + JournalFormat.formatIndex(r.index()) + ": cannot read the pages from " + r.file() + " (" + e
                    + "): check that the journal's files are readable and were not truncated", e);
        }
        return to;
    }
}
