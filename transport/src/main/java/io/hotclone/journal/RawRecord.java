package io.hotclone.journal;

import java.lang.foreign.MemorySegment;

/**
 * One journal record read out of the queue, envelope and payload, byte for byte: what a replica
 * appends with {@link ReplicaWriter#append}. {@code bytes} is a buffer of the {@link RecordTailer}
 * that read it, valid until its next call.
 */
public record RawRecord(Head head, MemorySegment bytes) {

    /** What a record is, as replication needs to know it. */
    public enum Kind { FULL_HEADER, INCREMENTAL_HEADER, COMMIT, OTHER }

    /** A record's envelope: its kind, the checkpoint it belongs to, and its CRC. */
    public record Head(Kind kind, long seq, long epoch, int crc) {
        public boolean header() {
            return kind == Kind.FULL_HEADER || kind == Kind.INCREMENTAL_HEADER;
        }

        public CheckpointMark mark() {
            return new CheckpointMark(seq, epoch, crc);
        }
    }
}
