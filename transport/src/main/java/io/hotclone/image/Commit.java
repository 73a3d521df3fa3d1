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
 */
public record Commit(long seq, int areas, long pages, long pageBytes, int fds,
                     long freezeMicros, long durationMicros) {
}
