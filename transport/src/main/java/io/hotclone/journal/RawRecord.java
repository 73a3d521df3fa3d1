package io.hotclone.journal;

/**
 * One journal record copied out of the queue, envelope and payload, byte for byte: what a
 * replica appends with {@link ReplicaWriter#append}.
 */
public record RawRecord(Head head, byte[] bytes) {

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
