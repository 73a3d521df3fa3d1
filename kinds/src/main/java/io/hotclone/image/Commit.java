package io.hotclone.image;

/**
 * The last record of a checkpoint: until it is in the journal the checkpoint does not exist.
 *
 * @param seq            the checkpoint it commits
 * @param areas          memory areas it holds
 * @param pages          pages it holds
 * @param pageBytes      bytes of page contents it holds
 * @param fds            fds it holds
 * @param freezeMicros   how long the program was frozen
 * @param durationMicros how long the whole capture took
 * @param failedBefore   checkpoints of the program that failed since the committed one before
 *                       this (a gap in its protection), or {@link #FAILED_BEFORE_UNKNOWN}
 */
@Tag(value = 8, version = 2, name = "commit")
public record Commit(long seq, int areas, long pages, long pageBytes, int fds,
                     long freezeMicros, long durationMicros,
                     @Since(value = 2, absent = Commit.FAILED_BEFORE_UNKNOWN) int failedBefore) implements ImageRecord {
    /** The failures before a commit written by a hotclone that did not count them (record version 1). */
    public static final int FAILED_BEFORE_UNKNOWN = -1;
}
