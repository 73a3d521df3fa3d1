package io.hotclone.capture.memory;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link PageDumper} reads its batches: a buffer for each, handed on once filled.
 * Called on the dumper's thread only.
 */
public interface PageBatches {
    /** The buffer to read the next batch into, of {@link PageDumper#BATCH_BYTES} at least. */
    MemorySegment buffer();

    /**
     * Hands on the batch just read into {@link #buffer()}: {@code runs} runs of pages laid end
     * to end from its start. The arrays are the dumper's, reused for its next batch.
     */
    void filled(long[] addresses, long[] lengths, int runs);
}
