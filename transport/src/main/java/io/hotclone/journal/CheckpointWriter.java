package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.ZombieState;

import java.lang.foreign.MemorySegment;

/**
 * Appends the records of one checkpoint, begun by {@link Journal#begin}, which already wrote its
 * header. Records go to the journal as they are given; none of them is visible until
 * {@link #commit}. Confined to the thread that called {@code begin} (Chronicle appenders are
 * thread-bound).
 */
public interface CheckpointWriter extends AutoCloseable {
    /**
     * A process record, which begins the process's section: the threads, areas, fds, zombies, IPC objects and
     * pages written after it, up to the next process record, are its own. At least one per checkpoint;
     * children before their parents, the program's first process last.
     */
    void process(ProcessState p);

    void thread(ThreadState t);

    void area(MemoryArea a);

    void fd(FdState f);

    /** A child of the section's process that ended and was not waited for, after its descriptors. */
    void zombie(ZombieState z);

    /** A System V IPC object of the program's IPC namespace, in its first process's section, last. */
    void ipc(SysvIpc object);

    /**
     * Copies page contents into the journal, split into records of at most
     * {@link JournalFormat#MAX_RUN_BYTES}. {@code address} and {@code contents.byteSize()} are multiples
     * of the header's page size. Each record's contents go to the queue file with one pwrite,
     * straight from {@code contents} if it is native (of any arena).
     */
    void pages(long address, MemorySegment contents);

    /**
     * Copies the contents of {@code count} runs, which lie one after the other in
     * {@code contents}, into one page record of at most {@link JournalFormat#MAX_RUN_BYTES} of
     * contents: scattered pages then cost one record, not one each. Run {@code i} starts at
     * {@code addresses[i]} and is {@code lengths[i]} bytes, whole pages; at most
     * {@link #MAX_RUNS} runs.
     */
    void pages(long[] addresses, long[] lengths, int count, MemorySegment contents);

    /** The most runs one call of {@link #pages(long[], long[], int, MemorySegment)} takes. */
    int MAX_RUNS = Envelope.MAX_RUNS;

    /** Writes the commit, which makes the checkpoint visible. Its counts (areas, fds, pages, page
     *  bytes) must match what this writer wrote. */
    void commit(Commit c);

    /** Ends the writer; without a commit the checkpoint stays invisible (a torn or abandoned one). */
    @Override
    void close();
}
