package io.hotclone.journal;

import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.threads.Pauser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;

/**
 * The Chronicle queue of one journal: how it is built, its appenders and tailers, and the
 * queue's own locks. Chronicle appends the records and tails a live journal for a replication
 * sender; every other read goes through {@link CycleFiles}.
 */
final class JournalQueue implements AutoCloseable {
    /** One file per five minutes, of up to 2^22 records (a checkpoint takes a record per 8 MiB of
     *  pages at most, so a cycle never fills): retention ({@link Journal#dropCyclesBefore}) deletes
     *  whole files, so a short cycle keeps what a program running for days leaves behind near its
     *  chain plus five minutes of checkpoints. A journal made with another cycle keeps it: Chronicle
     *  reads the cycle from the queue's metadata file, which is how a test gets several cycles in
     *  seconds: nothing a user sets changes it. */
    static final RollCycle ROLL_CYCLE = RollCycles.FIVE_MINUTELY;
    /** Chronicle maps its files in blocks and caps one record at a quarter of a block: 64 MiB
     *  blocks take records of up to 16 MiB, above an 8 MiB page run and its head. */
    private static final long BLOCK_SIZE = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(JournalQueue.class);

    static {
        // Chronicle reports usage to an outside host unless told not to, and reads the switch
        // when it first builds a queue: a journal never reports, even if a launch forgot the flag.
        System.setProperty("chronicle.analytics.disable", "true");
    }

    private final Path dir;
    private final ChronicleQueue queue;

    private JournalQueue(Path dir, ChronicleQueue queue) {
        this.dir = dir;
        this.queue = queue;
    }

    /** Opens the queue of journal {@code dir}; an existing queue keeps the roll cycle it was made with. */
    static JournalQueue open(Path dir, RollCycle rollCycle, boolean readOnly) {
        try {
            return new JournalQueue(dir, builder(dir, rollCycle).readOnly(readOnly).build());
        } catch (RuntimeException e) {
            throw new JournalException("cannot open the Chronicle queue of journal " + dir + " (" + e
                    + "): check that the directory is readable" + (readOnly ? "" : " and writable"), e);
        }
    }

    /** How every journal's queue is built. */
    static SingleChronicleQueueBuilder builder(Path dir, RollCycle rollCycle) {
        return ChronicleQueue.singleBuilder(dir).rollCycle(rollCycle).blockSize(BLOCK_SIZE);
    }

    RollCycle rollCycle() {
        return queue.rollCycle();
    }

    /** An appender for the calling thread. */
    ExcerptAppender appender() {
        return queue.createAppender();
    }

    /** A tailer for the calling thread, at the start of the queue. */
    ExcerptTailer tailer() {
        ExcerptTailer tailer = queue.createTailer();
        tailer.toStart();
        return tailer;
    }

    /** A tailer for the calling thread, at queue index {@code index} of checkpoint {@code seq}. */
    ExcerptTailer tailer(long index, long seq) {
        ExcerptTailer tailer = queue.createTailer();
        if (!tailer.moveToIndex(index)) {
            tailer.close();
            throw new JournalException("journal " + dir + " lost index " + JournalFormat.formatIndex(index)
                    + " of checkpoint seq " + seq + ": were its queue files deleted or moved?");
        }
        return tailer;
    }

    /** Makes Chronicle see that queue files were deleted. */
    void refreshListing() {
        queue.refreshDirectoryListing();
    }

    /**
     * Frees the queue's own write and append locks (in its metadata file) when left held: by this
     * process, after an append that failed inside Chronicle (a full disk met while rolling to a new
     * file), or, with {@code anyHolder}, by a writer that died. Chronicle names a holder by its pid
     * and frees the lock of a dead one only after a wait; a writer restarted in a new PID
     * namespace (a container, a node of the tests) gets the dead one's pid, and Chronicle then
     * takes the lock for its own and waits for it forever. Call only while no appender of this
     * process writes the queue.
     */
    void freeLocks(boolean anyHolder) {
        var metaStore = ((SingleChronicleQueue) queue).metaStore();
        try (TableStoreWriteLock write = new TableStoreWriteLock(metaStore, Pauser::balanced, 0L);
             TableStoreWriteLock append = new TableStoreWriteLock(metaStore, Pauser::balanced, 0L,
                     TableStoreWriteLock.APPEND_LOCK_KEY)) {
            for (TableStoreWriteLock lock : List.of(write, append)) {
                if (anyHolder ? lock.locked() : lock.isLockedByCurrentProcess(tid -> { })) {
                    LOG.warn("journal {}: freeing the queue's {} lock, left held by a writer that {}", dir,
                            lock == write ? "write" : "append", anyHolder ? "is gone" : "failed in this process");
                    lock.forceUnlock();
                }
            }
        }
    }

    @Override
    public void close() {
        queue.close();
    }
}
