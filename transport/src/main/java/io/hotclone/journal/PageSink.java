package io.hotclone.journal;

import java.lang.foreign.MemorySegment;

/**
 * Receives the page runs of a checkpoint, one call per page record, in journal order.
 *
 * <p>{@code contents} is a read-only view of the journal's buffer, which the run was just read
 * into and its CRC checked in, valid only during the call and only on the calling thread: copy
 * what must outlive it.
 */
@FunctionalInterface
public interface PageSink {
    /** @param address  the program's address of the first byte
     *  @param contents whole pages, at most {@link JournalFormat#MAX_RUN_BYTES} bytes */
    void accept(long address, MemorySegment contents);
}
