package io.hotclone.journal;

import io.hotclone.image.ImageHeader;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The checkpoint journal of one program: a Chronicle Queue in one directory whose records are
 * checkpoints, each a header, metadata records, page records and a commit.
 *
 * <p>A checkpoint is visible only once its commit is in the journal and its metadata records'
 * CRCs are good (checked when the journal is opened); page CRCs are checked whenever pages are
 * read, and by {@link #verify()}. Opening scans every record's envelope once, without reading
 * page contents, and keeps an index from seq to queue indices so that {@link #read} and
 * {@link #pages} seek straight to a checkpoint.
 *
 * <p>The jobs are done by package-private classes this one wires together: the directory's
 * marker ({@link JournalMarker}) and one-writer lock ({@link JournalLock}), the Chronicle queue
 * ({@link JournalQueue}), the queue files as scans, readers and retention see them
 * ({@link JournalFiles}), the index ({@link JournalIndex}), the epochs taken
 * ({@link EpochFence}), who writes ({@link WriterSlot}), reading checkpoints
 * ({@link CheckpointReader}) and a replica's index ({@link ReplicaIndexer}).
 *
 * <p>Thread-safe, except that a {@link CheckpointWriter}, {@link RecordTailer} or {@link ReplicaWriter}
 * is confined to the thread that made it. One writer at a time per journal (a replica takes only a
 * replica writer), and one writing process per directory: {@link JournalLock}.
 */
public final class Journal implements AutoCloseable {
    private final Path dir;
    private final JournalQueue queue;
    /** Held by a journal opened for writing, null in one opened for reading. */
    private final JournalLock lock;
    private final JournalFiles files;
    private final JournalIndex index;
    private final EpochFence epochs;
    private final ReplicaIndexer replicaIndexer;
    private final WriterSlot slot;
    private final CheckpointReader reader;
    /** The room the checkpoint writer's records have on the disk (writer's thread only). */
    private final DiskRoom room;

    private Journal(Path dir, JournalLock lock, RollCycle rollCycle) {
        this.dir = dir;
        this.lock = lock;
        this.queue = JournalQueue.open(dir, rollCycle, lock == null);
        try {
            if (lock != null && lock.claimQueue()) {
                queue.freeLocks(true);
            }
            files = new JournalFiles(dir, queue.rollCycle());
            JournalScan scan = files.scan(JournalScan.Depth.INDEX);
            index = new JournalIndex(dir, files, scan);
            epochs = new EpochFence(dir, scan.maxEpoch);
            replicaIndexer = new ReplicaIndexer(scan, index, epochs);
        } catch (RuntimeException e) {
            queue.close();
            throw e;
        }
        slot = new WriterSlot(dir, lock != null);
        reader = new CheckpointReader(dir, index, files);
        room = new DiskRoom(dir);
    }

    /**
     * Opens the journal in {@code dir} for writing, creating the directory and an empty journal
     * if needed, or appending to the journal already there. Holds the directory's
     * {@link JournalLock} until closed.
     *
     * @throws JournalException if the directory cannot be created or written, holds something
     *                          other than a journal, or another process writes it
     */
    public static Journal create(Path dir) {
        return create(dir, JournalQueue.ROLL_CYCLE);
    }

    /** {@link #create(Path)}, a new journal rolling to a new queue file every {@code rollCycle}: for tests. */
    static Journal create(Path dir, RollCycle rollCycle) {
        JournalLock lock = JournalLock.acquire(dir);
        try {
            JournalMarker.forWriting(dir);
            Journal journal = new Journal(dir, lock, rollCycle);
            if (!journal.index.losses().isEmpty()) {
                journal.close();
                throw new JournalException("journal " + dir + " lost records (" + journal.index.losses().getFirst()
                        + "): it is not written to any more; restore from it (`hotclone journal verify " + dir
                        + "` says what is left) and write to another journal directory");
            }
            return journal;
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /**
     * Opens the journal in {@code dir} for reading, to restore from it.
     *
     * @throws JournalException if there is no journal there, or it holds no committed checkpoint
     */
    public static Journal open(Path dir) {
        Journal journal = inspect(dir);
        if (journal.checkpoints().isEmpty()) {
            int damagedCount = journal.index.damagedCount();
            journal.close();
            throw new JournalException("journal " + dir + " holds no committed checkpoint"
                    + (damagedCount == 0 ? "" : " that is intact (" + damagedCount + " damaged)")
                    + ": there is nothing to restore; `hotclone journal verify " + dir + "` says what it holds");
        }
        return journal;
    }

    /**
     * Opens the journal in {@code dir} for reading even if it holds no committed checkpoint yet:
     * for tools that show or verify a journal.
     *
     * @throws JournalException if there is no journal there
     */
    public static Journal inspect(Path dir) {
        JournalMarker.forReading(dir);
        return new Journal(dir, null, JournalQueue.ROLL_CYCLE);
    }

    /** The directory of this journal. */
    public Path dir() {
        return dir;
    }

    /** The seq the next checkpoint must have: 1 + the highest seq seen, committed or not. */
    public long nextSeq() {
        return index.nextSeq();
    }

    /**
     * Begins checkpoint {@code header.seq()}, which must be {@link #nextSeq()}, and writes its
     * header. The writer belongs to the calling thread.
     *
     * @throws JournalException if the header's epoch is older than one already in the journal
     *                          (this primary has been fenced)
     */
    public synchronized CheckpointWriter begin(ImageHeader header) {
        slot.checkCheckpointFree();
        index.checkNext(header);
        QueueCheckpointWriter.checkHeader(header);
        epochs.checkBegin(header);
        index.checkBase(header);
        WriterSlot.Lease lease = slot.takeForCheckpoint();
        CheckpointWriter writer;
        try {
            if (lease.afterAbandoned()) {
                queue.freeLocks(false);
            }
            room.forget();
            writer = new QueueCheckpointWriter(new QueueAppend(dir, queue.appender()), header, room, index, lease);
        } catch (RuntimeException e) {
            lease.released();
            throw e;
        }
        slot.begun();
        index.began(header.seq());
        epochs.saw(header.epoch());
        return writer;
    }

    /** The committed checkpoints, in seq order. */
    public List<CheckpointSummary> checkpoints() {
        return index.checkpoints();
    }

    /** The committed checkpoints after {@code seq}, in seq order: what a replica at {@code seq} lacks. */
    public List<CheckpointSummary> checkpointsAfter(long seq) {
        return index.checkpointsAfter(seq);
    }

    /** The newest committed checkpoint, as a replica of this journal names it. */
    public Optional<CheckpointMark> lastCommit() {
        return index.lastCommit();
    }

    /** Whether this journal holds the committed checkpoint {@code mark} names (seq, epoch and commit CRC agree). */
    public boolean holds(CheckpointMark mark) {
        return index.holds(mark);
    }

    /**
     * The full checkpoint the chain of the newest committed checkpoint starts at: a journal that
     * holds every record from its header on can restore the newest checkpoint. Empty if nothing is
     * committed, or the chain is broken.
     */
    public OptionalLong chainBase() {
        return index.chainBase();
    }

    /** The newest epoch of any checkpoint in this journal, or its fence if that is newer. */
    public long maxEpoch() {
        return epochs.max();
    }

    /**
     * Fences this journal at {@code epoch}: from now on it takes no checkpoint ({@link #begin})
     * and no replicated record of an older epoch. Held in memory only.
     */
    public void fence(long epoch) {
        epochs.raise(epoch);
    }

    /**
     * A reader of every record after committed checkpoint {@code seq}'s commit, or of every record
     * if {@code seq} is 0, for the calling thread.
     */
    public RecordTailer tailAfter(long seq) {
        ExcerptTailer tailer;
        if (seq == 0) {
            tailer = queue.tailer();
        } else {
            tailer = queue.tailer(index.entry(seq).lastIndex(), seq);
            tailer.readingDocument().close(); // past the commit
        }
        return new RecordTailer(dir, tailer, index);
    }

    /** A reader of every record from committed checkpoint {@code seq}'s header on, for the calling thread. */
    public RecordTailer tailFrom(long seq) {
        return new RecordTailer(dir, queue.tailer(index.entry(seq).firstIndex(), seq), index);
    }

    /**
     * Deletes the queue files that lie wholly before the roll cycle holding the header of
     * committed full checkpoint {@code fullSeq}, and forgets the checkpoints they held and those
     * built on them: nothing from {@code fullSeq} on needs them. Checkpoints before {@code fullSeq}
     * in the files kept stay readable (a standby left at one resumes from it). A reader already inside a deleted file reads on (its
     * mapping outlives the name); one that seeks a forgotten checkpoint is told it is gone.
     *
     * @return the number of files deleted
     * @throws IllegalArgumentException if {@code fullSeq} is not a committed full checkpoint
     * @throws JournalException         if a file cannot be deleted
     */
    public synchronized int dropCyclesBefore(long fullSeq) {
        int keepFrom = files.cycleOf(index.full(fullSeq).firstIndex());
        int dropped = files.dropBefore(keepFrom, fullSeq);
        index.forgetBefore(keepFrom);
        queue.refreshListing();
        return dropped;
    }

    /** A writer of records shipped from a primary, for the calling thread; one at a time. */
    public synchronized ReplicaWriter replicaWriter() {
        WriterSlot.Lease lease = slot.takeForReplica();
        try {
            return new ReplicaWriter(dir, new QueueAppend(dir, queue.appender()), epochs, replicaIndexer, lease);
        } catch (RuntimeException e) {
            lease.released();
            throw e;
        }
    }

    /** The metadata of committed checkpoint {@code seq}, every CRC checked. */
    public CheckpointImage read(long seq) {
        return reader.read(seq);
    }

    /** The metadata of the newest committed checkpoint. */
    public CheckpointImage latest() {
        return reader.read(index.lastSeq());
    }

    /**
     * Hands every page run of committed checkpoint {@code seq} to {@code sink}, in journal order,
     * each read into a buffer (one pread, see {@link QueueFileIo}) and its CRC checked. A
     * JournalException thrown part-way means the runs already delivered belong to a damaged
     * checkpoint.
     */
    public void pages(long seq, PageSink sink) {
        reader.pages(seq, 0, sink);
    }

    /**
     * Hands the page runs of process {@code vpid} (as the program knows it) of committed
     * checkpoint {@code seq} to {@code sink}, as {@link #pages(long, PageSink)} does.
     */
    public void pages(long seq, int vpid, PageSink sink) {
        reader.pages(seq, vpid, sink);
    }

    /**
     * The newest restorable checkpoint and what newer it passes over.
     *
     * @throws JournalException if no committed checkpoint can be restored
     */
    public NewestSound newestSound() {
        return index.newestSound();
    }

    /** Reads every record of the journal and checks every CRC, record version and checkpoint. */
    public VerifyReport verify() {
        return files.scan(JournalScan.Depth.VERIFY).report();
    }

    @Override
    public void close() {
        queue.close();
        if (lock != null) {
            lock.close();
        }
    }
}
