package io.hotclone.image;

/**
 * The first record of every checkpoint: compatibility facts come first so that a restore on an
 * unsuitable machine fails before it touches anything, and says why.
 *
 * @param formatVersion version of the journal format that wrote this checkpoint
 * @param seq           checkpoint sequence number, increasing within a journal
 * @param epoch         reign of the primary that wrote it (fencing)
 * @param kind          full or incremental
 * @param baseSeq       for an incremental checkpoint the checkpoint it adds to, else -1
 * @param kernelRelease uname release of the capturing machine
 * @param machine       uname machine (x86_64)
 * @param pageSize      page size of the capturing machine
 * @param xfeatures     XCR0 of the capturing CPU: which xstate components the registers hold
 * @param xstateSize    size in bytes of the xstate area saved per thread
 * @param capturedAtMillis wall-clock time of the barrier, ms since the epoch
 */
@Tag(value = 1, version = 1, name = "header")
public record ImageHeader(int formatVersion, long seq, long epoch, CheckpointKind kind, long baseSeq,
                          String kernelRelease, String machine, int pageSize, long xfeatures,
                          int xstateSize, long capturedAtMillis) implements ImageRecord {
}
