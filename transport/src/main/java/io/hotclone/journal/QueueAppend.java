package io.hotclone.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Appends records to a journal's queue, one queue document each, through one Chronicle appender
 * (thread-bound, like this): the head through Chronicle, page contents with pwrite
 * ({@link QueueFileIo}).
 */
final class QueueAppend implements AutoCloseable {
    private final Path dir;
    private final ExcerptAppender appender;
    private final QueueFileIo files = QueueFileIo.forWriting();

    QueueAppend(Path dir, ExcerptAppender appender) {
        this.dir = dir;
        this.appender = appender;
    }

    /** Appends {@code head} and then {@code pages} (maybe empty) as one queue document; a failure
     *  leaves no document behind. */
    void append(RecordType type, long seq, byte[] head, MemorySegment pages) {
        DocumentContext dc = null;
        try {
            dc = appender.writingDocument();
            Bytes<?> bytes = dc.wire().bytes();
            bytes.write(head);
            if (pages.byteSize() > 0) {
                files.append(bytes, pages);
            }
        } catch (RuntimeException | IOException | InternalError e) {
            // InternalError: the JVM's word for a SIGBUS on a mapped file, as when the disk under it is full.
            if (dc != null) {
                dc.rollbackOnClose();
            }
            throw new JournalException("cannot write a " + type.label() + " record of checkpoint seq " + seq
                    + " to journal " + dir + " (" + e + "): check that its disk has room and is writable", e);
        } finally {
            if (dc != null) {
                dc.close();
            }
        }
    }

    /** The queue index of the record last appended. */
    long lastIndex() {
        return appender.lastIndexAppended();
    }

    @Override
    public void close() {
        files.close();
        appender.close();
    }
}
