package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;

/** One committed checkpoint as its header and commit describe it; {@code baseSeq} is -1 for a
 *  full checkpoint, {@code failedBefore} as in {@link io.hotclone.image.Commit}. */
public record CheckpointSummary(long seq, CheckpointKind kind, long baseSeq, long epoch, long pages,
                                long pageBytes, long freezeMicros, long durationMicros,
                                long capturedAtMillis, int failedBefore) {
}
