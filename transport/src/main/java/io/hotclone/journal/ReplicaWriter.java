package io.hotclone.journal;

import io.hotclone.journal.Envelope.BadRecord;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Appends records shipped from a primary's journal, verbatim, to a standby's journal, so that it
 * becomes a record-for-record replica. Each record's envelope and CRC are checked first, and a
 * record of an epoch older than the journal's (or its fence, {@link Journal#fence}) is refused.
 * The journal's index follows: once a commit is appended its checkpoint is readable.
 *
 * <p>Made by {@link Journal#replicaWriter()}; confined to the thread that made it (Chronicle
 * appenders are thread-bound). The journal takes no {@link Journal#begin} while one is open.
 */
public final class ReplicaWriter implements AutoCloseable {
    private final Path dir;
    private final QueueAppend out;
    private final EpochFence epochs;
    private final ReplicaIndexer indexer;
    private final WriterSlot.Lease lease;
    private final Thread owner = Thread.currentThread();

    ReplicaWriter(Path dir, QueueAppend out, EpochFence epochs, ReplicaIndexer indexer, WriterSlot.Lease lease) {
        this.dir = dir;
        this.out = out;
        this.epochs = epochs;
        this.indexer = indexer;
        this.lease = lease;
    }

    /**
     * Appends one record (envelope and payload) and returns the checkpoint it committed, if it
     * was a commit that committed one.
     *
     * @throws JournalException if the record is not a sound hotclone record or its epoch is too old;
     *                          nothing is appended then
     */
    public Optional<CheckpointMark> append(byte[] record) {
        return append(MemorySegment.ofArray(record));
    }

    /** {@link #append(byte[])} from any memory. */
    public Optional<CheckpointMark> append(MemorySegment record) {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("the replica writer of journal " + dir + " belongs to thread "
                    + owner.getName() + " (Chronicle appenders are thread-bound): call it from that thread");
        }
        Envelope.Stored shipped = new Envelope.Stored(-1, record, null, 0);
        RecordType type;
        try {
            type = shipped.type();
            shipped.checkCrc(type);
        } catch (BadRecord e) {
            throw new JournalException("a record shipped to journal " + dir + " is refused: " + e.getMessage()
                    + "; the primary's journal or the link corrupted it (`hotclone journal verify` on the primary)");
        }
        epochs.checkShipped(type, shipped.seq(), shipped.epoch());
        long headLength = type.carriesPages() ? shipped.pageHeadLength() : record.byteSize();
        out.append(type, shipped.seq(), record.asSlice(0, headLength).toArray(ValueLayout.JAVA_BYTE),
                record.asSlice(headLength));
        return indexer.accept(new Envelope.Stored(out.lastIndex(), record, null, 0));
    }

    /** The header of the checkpoint this journal was left inside, if it ends without its commit. */
    public Optional<CheckpointMark> tornHeader() {
        return indexer.tornHeader();
    }

    @Override
    public void close() {
        out.close();
        lease.released();
    }
}
