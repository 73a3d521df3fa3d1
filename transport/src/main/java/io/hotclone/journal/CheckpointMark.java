package io.hotclone.journal;

/**
 * A record of one checkpoint as two journals compare it: two journals hold the same record when
 * seq, epoch and CRC (of the record's envelope and payload) agree. Used for commits (the
 * checkpoint a replica holds) and headers (the checkpoint a replica was left inside).
 */
public record CheckpointMark(long seq, long epoch, int crc) {
}
