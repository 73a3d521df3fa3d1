package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.journal.Envelope.BadRecord;
import io.hotclone.journal.JournalScan.Entry;
import io.hotclone.journal.VerifyReport.Loss;
import io.hotclone.journal.VerifyReport.Problem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.threads.Pauser;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

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
 * <p>Chronicle appends the records, and tails a live journal for a replication sender; every other
 * read goes through {@link CycleFiles}, which never touches a byte a queue file does not have, so
 * that a file cut short, emptied or deleted is a loss the scan reports (with {@link CycleList}
 * telling a deleted file from a gap in time), not a fault.
 *
 * <p>Thread-safe, except that a {@link CheckpointWriter}, {@link RecordTailer} or {@link ReplicaWriter}
 * is confined to the thread that made it. One writer at a time per journal (a replica takes only a
 * replica writer), and one writing process per directory: {@link JournalLock}.
 */
public final class Journal implements AutoCloseable {
    /** The file that tells a journal directory from any other: it names the format. */
    static final String MARKER = "hotclone-journal";
    private static final String MARKER_TEXT = "hotclone journal format " + JournalFormat.FORMAT_VERSION + "\n";
    /** One file per five minutes, of up to 2^22 records (a checkpoint takes a record per 8 MiB of
     *  pages at most, so a cycle never fills): {@link #dropCyclesBefore} deletes whole files, so a
     *  short cycle keeps what a program running for days leaves behind near its chain plus five
     *  minutes of checkpoints. A journal made with another cycle keeps it: Chronicle reads the
     *  cycle from the queue's metadata file, which is how a test gets several cycles in seconds
     *  ({@link #create(Path, RollCycle)}): nothing a user sets changes it. */
    static final RollCycle ROLL_CYCLE = RollCycles.FIVE_MINUTELY;
    /** Chronicle maps its files in blocks and caps one record at a quarter of a block: 64 MiB
     *  blocks take records of up to 16 MiB, above an 8 MiB page run and its head. */
    private static final long BLOCK_SIZE = 64L << 20;
    /**
     * Space a checkpoint's records leave free on the journal's disk. Chronicle writes its files
     * through memory mappings of sparse files, where a full disk is not an error but a SIGBUS,
     * which can crash the JVM (inside Unsafe) as well as fail the write: a record that would
     * leave less than this fails first, cleanly, and the checkpoint is tried again later.
     */
    private static final long KEEP_FREE = 16L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    static {
        // Chronicle reports usage to an outside host unless told not to, and reads the switch
        // when it first builds a queue: a journal never reports, even if a launch forgot the flag.
        System.setProperty("chronicle.analytics.disable", "true");
    }

    private final Path dir;
    private final ChronicleQueue queue;
    /** Held by a journal opened for writing, null in one opened for reading. */
    private final JournalLock lock;
    // The index, guarded by this: built by the opening scan, extended by this journal's writers.
    private final NavigableMap<Long, Entry> committed = new TreeMap<>();
    private final Map<Long, Problem> damaged = new HashMap<>();
    /** What the opening scan found lost with missing or truncated queue files. */
    private final List<Loss> losses;
    private long maxSeq;
    private long maxEpoch;
    /** No record or checkpoint of an older epoch is taken from now on (see {@link #fence}). */
    private long fence;
    private CheckpointWriter writer;
    /** Reads the queue files; Chronicle only appends, and tails a live journal for a sender. */
    private final CycleFiles files;
    private final CycleList cycleList;
    /** The opening scan, carried on by a {@link ReplicaWriter}'s records to keep the index live. */
    private final JournalScan scan;
    private ReplicaWriter replica;
    /** Whether a {@link #begin} wrote here since opening, which the scan did not see. */
    private boolean begun;
    /** Whether a checkpoint ended uncommitted since the last {@link #begin}: a failed append may have left the queue locked. */
    private boolean abandoned;
    /** Bytes that records may take before the disk's free space is asked again (writer's thread only). */
    private long room;
    /** The journal's disk, found once (a look-up reads the mount table; its free space is one statvfs); writer's thread only. */
    private FileStore disk;

    private Journal(Path dir, JournalLock lock, RollCycle rollCycle) {
        this.dir = dir;
        this.lock = lock;
        boolean readOnly = lock == null;
        try {
            this.queue = queueBuilder(dir, rollCycle).readOnly(readOnly).build();
        } catch (RuntimeException e) {
            throw new JournalException("cannot open the Chronicle queue of journal " + dir + " (" + e
                    + "): check that the directory is readable" + (readOnly ? "" : " and writable"), e);
        }
        try {
            if (lock != null && lock.claimQueue()) {
                releaseQueueLocks(true);
            }
            files = new CycleFiles(dir, queue.rollCycle());
            cycleList = CycleList.read(dir);
            scan = new JournalScan(JournalScan.Depth.INDEX, files);
            visitAll(scan);
            scan.forgetDroppedHead();
            scan.committed.forEach(e -> committed.put(e.header().seq(), e));
            damaged.putAll(scan.damaged);
            losses = List.copyOf(scan.losses);
            maxSeq = scan.maxSeq;
            maxEpoch = scan.maxEpoch;
        } catch (RuntimeException e) {
            queue.close();
            throw e;
        }
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
        return create(dir, ROLL_CYCLE);
    }

    /** {@link #create(Path)}, a new journal rolling to a new queue file every {@code rollCycle}: for tests. */
    static Journal create(Path dir, RollCycle rollCycle) {
        JournalLock lock = JournalLock.acquire(dir);
        try {
            return create(dir, lock, rollCycle);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static Journal create(Path dir, JournalLock lock, RollCycle rollCycle) {
        Path marker = dir.resolve(MARKER);
        if (Files.exists(marker)) {
            checkMarker(dir);
            if (!Files.isWritable(dir) || !Files.isWritable(marker)) {
                throw notWritable(dir, "permission denied");
            }
        } else {
            if (!isEmpty(dir)) {
                throw new JournalException(dir + " is not empty and holds no hotclone journal (no " + MARKER
                        + " file): give an empty or new directory, or the directory of an existing journal");
            }
            writeMarker(dir, marker);
        }
        Journal journal = new Journal(dir, lock, rollCycle);
        if (!journal.losses.isEmpty()) {
            journal.close();
            throw new JournalException("journal " + dir + " lost records (" + journal.losses.getFirst()
                    + "): it is not written to any more; restore from it (`hotclone journal verify " + dir
                    + "` says what is left) and write to another journal directory");
        }
        return journal;
    }

    /**
     * Writes the marker whole or not at all, so that a reader never meets it half written: its
     * text goes to a file of its own first, which is then linked in as the marker (a link, unlike
     * a rename, fails if another creator was first).
     */
    private static void writeMarker(Path dir, Path marker) {
        Path draft = dir.resolve(MARKER + ".new");
        try {
            Files.writeString(draft, MARKER_TEXT);
            Files.createLink(marker, draft);
        } catch (IOException e) {
            throw notWritable(dir, JournalException.describe(e));
        } finally {
            try {
                Files.deleteIfExists(draft);
            } catch (IOException e) {
                // a draft left behind is harmless: the marker decides
            }
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
            int damagedCount = journal.damaged.size();
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
        if (!Files.isDirectory(dir)) {
            throw new JournalException("no journal at " + dir + ": " + (Files.exists(dir) ? "it is not a directory"
                    : "it does not exist") + "; give the journal directory the checkpoints were written to");
        }
        if (!Files.exists(dir.resolve(MARKER))) {
            throw new JournalException(dir + " is not a hotclone journal (it has no " + MARKER
                    + " file): give the journal directory the checkpoints were written to");
        }
        checkMarker(dir);
        return new Journal(dir, null, ROLL_CYCLE);
    }

    /** How every journal's queue is built; an existing queue keeps the roll cycle it was made with. */
    static SingleChronicleQueueBuilder queueBuilder(Path dir, RollCycle rollCycle) {
        return ChronicleQueue.singleBuilder(dir).rollCycle(rollCycle).blockSize(BLOCK_SIZE);
    }

    /** The directory of this journal. */
    public Path dir() {
        return dir;
    }

    /** The seq the next checkpoint must have: 1 + the highest seq seen, committed or not. */
    public synchronized long nextSeq() {
        return maxSeq + 1;
    }

    /**
     * Begins checkpoint {@code header.seq()}, which must be {@link #nextSeq()}, and writes its
     * header. The writer belongs to the calling thread.
     *
     * @throws JournalException if the header's epoch is older than one already in the journal
     *                          (this primary has been fenced)
     */
    public synchronized CheckpointWriter begin(ImageHeader header) {
        if (lock == null) {
            throw new IllegalStateException("journal " + dir + " was opened for reading: use Journal.create to write");
        }
        if (writer != null) {
            throw new IllegalStateException("a checkpoint is still being written to journal " + dir
                    + ": commit or close its writer first");
        }
        if (replica != null) {
            throw new IllegalStateException("journal " + dir + " is a replica being written by its primary:"
                    + " close its replica writer before writing checkpoints of its own");
        }
        if (header.seq() != maxSeq + 1) {
            throw new IllegalArgumentException("checkpoint seq " + header.seq() + " cannot begin: the next seq of journal "
                    + dir + " is " + (maxSeq + 1));
        }
        if (header.formatVersion() != JournalFormat.FORMAT_VERSION) {
            throw new IllegalArgumentException("header of seq " + header.seq() + " has format " + header.formatVersion()
                    + "; this journal writes format " + JournalFormat.FORMAT_VERSION);
        }
        int pageSize = header.pageSize();
        if (pageSize <= 0 || Integer.bitCount(pageSize) != 1 || pageSize > JournalFormat.MAX_RUN_BYTES) {
            throw new IllegalArgumentException("header of seq " + header.seq() + " has page size " + pageSize
                    + ": not a power of two up to " + JournalFormat.MAX_RUN_BYTES);
        }
        if (header.epoch() < Math.max(maxEpoch, fence)) {
            throw new JournalException("checkpoint seq " + header.seq() + " has epoch " + header.epoch()
                    + " but journal " + dir + (maxEpoch >= fence ? " already holds epoch " + maxEpoch
                    : " is fenced below epoch " + fence) + ": a newer primary has taken over, so this one must stop writing");
        }
        boolean baseOk = header.kind() == CheckpointKind.FULL
                ? header.baseSeq() == -1
                : committed.containsKey(header.baseSeq());
        if (!baseOk) {
            throw new IllegalArgumentException(header.kind() + " checkpoint seq " + header.seq() + " has base seq "
                    + header.baseSeq() + ": a full checkpoint has base -1, an incremental one a committed checkpoint");
        }
        if (abandoned) {
            abandoned = false;
            releaseQueueLocks(false);
        }
        room = 0; // the disk's free space is asked afresh for each checkpoint: others write there too
        try {
            writer = new QueueCheckpointWriter(this, queue.createAppender(), header);
        } catch (RuntimeException e) {
            abandoned = true;
            throw e;
        }
        begun = true;
        maxSeq = header.seq();
        maxEpoch = header.epoch();
        return writer;
    }

    /** The committed checkpoints, in seq order. */
    public synchronized List<CheckpointSummary> checkpoints() {
        return committed.values().stream().map(Entry::summary).toList();
    }

    /** The committed checkpoints after {@code seq}, in seq order: what a replica at {@code seq} lacks. */
    public synchronized List<CheckpointSummary> checkpointsAfter(long seq) {
        return committed.tailMap(seq, false).values().stream().map(Entry::summary).toList();
    }

    /** The newest committed checkpoint, as a replica of this journal names it. */
    public synchronized Optional<CheckpointMark> lastCommit() {
        return committed.isEmpty() ? Optional.empty() : Optional.of(committed.lastEntry().getValue().mark());
    }

    /** Whether this journal holds the committed checkpoint {@code mark} names (seq, epoch and commit CRC agree). */
    public synchronized boolean holds(CheckpointMark mark) {
        Entry entry = committed.get(mark.seq());
        return entry != null && entry.mark().equals(mark);
    }

    /**
     * The full checkpoint the chain of the newest committed checkpoint starts at: a journal that
     * holds every record from its header on can restore the newest checkpoint. Empty if nothing is
     * committed, or the chain is broken.
     */
    public synchronized OptionalLong chainBase() {
        return committed.isEmpty() ? OptionalLong.empty() : chainBase(committed.lastEntry().getValue());
    }

    /** The committed full checkpoint {@code entry}'s chain starts at, or empty if the chain is broken. */
    private OptionalLong chainBase(Entry entry) {
        ImageHeader h = entry.header();
        while (h.kind() == CheckpointKind.INCREMENTAL) {
            Entry base = committed.get(h.baseSeq());
            if (base == null) {
                return OptionalLong.empty();
            }
            h = base.header();
        }
        return OptionalLong.of(h.seq());
    }

    /** The newest epoch of any checkpoint in this journal, or its fence if that is newer. */
    public synchronized long maxEpoch() {
        return Math.max(maxEpoch, fence);
    }

    /**
     * Fences this journal at {@code epoch}: from now on it takes no checkpoint ({@link #begin})
     * and no replicated record of an older epoch. Held in memory only.
     */
    public synchronized void fence(long epoch) {
        fence = Math.max(fence, epoch);
    }

    /**
     * A reader of every record after committed checkpoint {@code seq}'s commit, or of every record
     * if {@code seq} is 0, for the calling thread.
     */
    public RecordTailer tailAfter(long seq) {
        ExcerptTailer tailer = queue.createTailer();
        if (seq == 0) {
            tailer.toStart();
        } else {
            seek(tailer, entry(seq).lastIndex(), seq);
            tailer.readingDocument().close(); // past the commit
        }
        return new RecordTailer(this, tailer);
    }

    /** A reader of every record from committed checkpoint {@code seq}'s header on, for the calling thread. */
    public RecordTailer tailFrom(long seq) {
        ExcerptTailer tailer = queue.createTailer();
        seek(tailer, entry(seq).firstIndex(), seq);
        return new RecordTailer(this, tailer);
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
        Entry full = committed.get(fullSeq);
        if (full == null || full.header().kind() != CheckpointKind.FULL) {
            throw new IllegalArgumentException("journal " + dir + " has no committed full checkpoint seq " + fullSeq
                    + " to drop the cycles before");
        }
        int keepFrom = queue.rollCycle().toCycle(full.firstIndex());
        int dropped = 0;
        try {
            cycleList.remove(name -> files.cycleOf(name) < keepFrom);
            files.forgetBefore(keepFrom);
            for (Path file : files.list().headMap(keepFrom).values()) {
                Files.delete(file);
                dropped++;
            }
        } catch (IOException e) {
            throw new JournalException("cannot drop the queue files of journal " + dir + " before checkpoint seq "
                    + fullSeq + " (" + JournalException.describe(e) + "): check that the directory is writable");
        }
        // Forgotten: what began in a deleted file, and what builds on it; the rest is still restorable.
        committed.values().removeIf(e -> queue.rollCycle().toCycle(e.firstIndex()) < keepFrom);
        List<Long> broken = committed.values().stream().filter(e -> chainBase(e).isEmpty()).map(e -> e.header().seq()).toList();
        broken.forEach(committed::remove);
        long oldest = committed.firstKey();
        damaged.keySet().removeIf(seq -> seq < oldest);
        queue.refreshDirectoryListing();
        return dropped;
    }

    /** A writer of records shipped from a primary, for the calling thread; one at a time. */
    public synchronized ReplicaWriter replicaWriter() {
        if (lock == null) {
            throw new IllegalStateException("journal " + dir + " was opened for reading: use Journal.create to replicate into it");
        }
        if (writer != null || replica != null || begun) {
            throw new IllegalStateException("journal " + dir + " has " + (begun && writer == null && replica == null
                    ? "had checkpoints of its own written since it was opened: reopen it to replicate into it"
                    : "a writer open: close it first"));
        }
        replica = new ReplicaWriter(this, queue.createAppender());
        return replica;
    }

    /** The metadata of committed checkpoint {@code seq}, every CRC checked. */
    public CheckpointImage read(long seq) {
        Entry entry = entry(seq);
        ImageAssembler image = new ImageAssembler();
        visit(entry, r -> {
            RecordType type = checkEnvelope(seq, r);
            if (!type.carriesPages()) {
                checkCrc(seq, r, type);
                try {
                    image.add(ImageCodec.decode(type, r));
                } catch (RuntimeException e) {
                    throw recordError(seq, r.index(), new BadRecord(type.label(), "cannot be decoded: " + e));
                }
            }
        });
        return image.image();
    }

    /** The metadata of the newest committed checkpoint. */
    public CheckpointImage latest() {
        long seq;
        synchronized (this) {
            if (committed.isEmpty()) {
                throw new JournalException("journal " + dir + " holds no committed checkpoint yet");
            }
            seq = committed.lastKey();
        }
        return read(seq);
    }

    /**
     * Hands every page run of committed checkpoint {@code seq} to {@code sink}, in journal order,
     * each read into a buffer (one pread, see {@link QueueFileIo}) and its CRC checked. A
     * JournalException thrown part-way means the runs already delivered belong to a damaged
     * checkpoint.
     */
    public void pages(long seq, PageSink sink) {
        try (Arena buffers = Arena.ofConfined(); QueueFileIo files = QueueFileIo.forReading()) {
            MemorySegment buffer = buffers.allocate(JournalFormat.MAX_RUN_BYTES);
            visit(entry(seq), r -> {
                if (checkEnvelope(seq, r).carriesPages()) {
                    MemorySegment contents = buffer.asSlice(0, r.pageContents().byteSize());
                    readPages(seq, r, files, contents);
                    // The view dies with this arena, so a sink that keeps it fails cleanly instead
                    // of seeing the next run's bytes.
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment view = contents.reinterpret(arena, null).asReadOnly();
                        long at = 0;
                        for (int i = 0; i < r.runCount(); i++) {
                            sink.accept(r.runAddress(i), view.asSlice(at, r.runLength(i)));
                            at += r.runLength(i);
                        }
                    }
                }
            });
        }
    }

    /** Reads the contents of page record {@code r} into {@code contents} and checks its CRC. */
    private void readPages(long seq, Envelope.Stored r, QueueFileIo files, MemorySegment contents) {
        try {
            // Piece by piece, each added to the CRC while it is still in the CPU's cache.
            CRC32C crc = r.pageCrc();
            for (long done = 0; done < contents.byteSize(); done += QueueFileIo.PIECE) {
                MemorySegment piece = contents.asSlice(done, Math.min(QueueFileIo.PIECE, contents.byteSize() - done));
                files.read(r.file(), r.pageContentsOffset() + done, piece);
                crc.update(piece.asByteBuffer());
            }
            r.checkPageCrc(crc);
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        } catch (IOException e) {
            throw new JournalException("journal " + dir + ", checkpoint seq " + seq + ", index " + JournalFormat.formatIndex(r.index())
                    + ": cannot read the pages from " + r.file() + " (" + e + "): check that the journal's files are"
                    + " readable and were not truncated", e);
        }
    }

    /**
     * The newest restorable checkpoint and what newer it passes over.
     *
     * @throws JournalException if no committed checkpoint can be restored
     */
    public synchronized NewestSound newestSound() {
        OptionalLong sound = committed.descendingKeySet().stream().filter(this::chainWhole).mapToLong(Long::longValue)
                .findFirst();
        if (sound.isEmpty()) {
            throw new JournalException("journal " + dir + " holds no restorable checkpoint: `hotclone journal verify "
                    + dir + "` says what it holds");
        }
        long seq = sound.getAsLong();
        Optional<String> passedOver = damaged.entrySet().stream().filter(d -> d.getKey() > seq)
                .max(Map.Entry.comparingByKey()).map(d -> "the newest checkpoint seq " + d.getKey() + " is damaged ("
                        + d.getValue() + ")")
                .or(() -> committed.lastKey() > seq ? Optional.of("the newest checkpoint seq " + committed.lastKey()
                        + " cannot be restored (the chain of incremental checkpoints it builds on is broken)")
                        : Optional.empty())
                .or(() -> losses.stream().filter(l -> l.afterSeq() >= seq).findFirst()
                        .map(l -> "records after checkpoint seq " + seq + " are lost (" + l + ")"));
        return new NewestSound(seq, passedOver);
    }

    /** Whether committed checkpoint {@code seq} leads, through committed ones, to a full checkpoint. */
    private boolean chainWhole(long seq) {
        ImageHeader h = committed.get(seq).header();
        while (h.kind() == CheckpointKind.INCREMENTAL) {
            Entry base = committed.get(h.baseSeq());
            if (base == null) {
                return false;
            }
            h = base.header();
        }
        return true;
    }

    /** Reads every record of the journal and checks every CRC, record version and checkpoint. */
    public VerifyReport verify() {
        JournalScan scan = new JournalScan(JournalScan.Depth.VERIFY, files);
        visitAll(scan);
        scan.forgetDroppedHead();
        return scan.report();
    }

    @Override
    public void close() {
        queue.close();
        if (lock != null) {
            lock.close();
        }
    }

    synchronized void committed(CheckpointWriter done, Entry entry) {
        committed.put(entry.header().seq(), entry);
        if (writer == done) {
            writer = null;
        }
        listCycles(entry);
    }

    /** Lists the queue files of a new commit's checkpoint, so that a reader notices them missing. */
    private void listCycles(Entry entry) {
        try {
            cycleList.add(files.nameOf(files.rollCycle().toCycle(entry.firstIndex())));
            cycleList.add(files.nameOf(files.rollCycle().toCycle(entry.lastIndex())));
        } catch (JournalException e) {
            // The checkpoint is committed all the same; only the loss of its file would go unnoticed.
            LOG.warn("{}: a reader will not notice if the queue file of checkpoint seq {} goes missing",
                    e.getMessage(), entry.header().seq());
        }
    }

    synchronized void released(CheckpointWriter done) {
        if (writer == done) {
            writer = null;
            abandoned = true;
        }
    }

    /**
     * Makes sure the disk has room for a record of {@code bytes} (and a page of Chronicle's own
     * around it) above {@link #KEEP_FREE}, asking it only once the room known runs out.
     *
     * @throws JournalException naming the disk's free space, if it has not
     */
    void reserve(long bytes, long seq) {
        long need = bytes + 4096;
        if (room < need) {
            long free;
            try {
                if (disk == null) {
                    disk = Files.getFileStore(dir);
                }
                free = disk.getUsableSpace();
            } catch (IOException e) {
                throw new JournalException("cannot ask the free space of journal " + dir + " (" + JournalException.describe(e)
                        + "): check that the directory exists and is readable", e);
            }
            room = free - KEEP_FREE;
            if (room < need) {
                room = 0;
                throw new JournalException("the disk of journal " + dir + " has " + (free >> 20) + " MiB free, too"
                        + " little for checkpoint seq " + seq + " (it keeps " + (KEEP_FREE >> 20) + " MiB free):"
                        + " free some space on it, or give --journal a directory on a larger disk");
            }
        }
        room -= need;
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
    private void releaseQueueLocks(boolean anyHolder) {
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

    synchronized void released(ReplicaWriter done) {
        if (replica == done) {
            replica = null;
        }
    }

    synchronized void checkReplicatedEpoch(RecordType type, long seq, long epoch) {
        long newest = maxEpoch();
        if (epoch < newest) {
            throw new JournalException("a " + type.label() + " record of checkpoint seq " + seq + " shipped to journal "
                    + dir + " has epoch " + epoch + " but the journal " + (maxEpoch >= fence ? "already holds epoch "
                    + maxEpoch : "is fenced below epoch " + fence) + ": it comes from a primary that a newer one"
                    + " (epoch " + newest + ") has replaced, which must stop shipping");
        }
    }

    /** Carries the index on with a record just appended by the replica writer. */
    synchronized Optional<CheckpointMark> indexReplicated(Envelope.Stored r) {
        int before = scan.committed.size();
        scan.accept(r);
        maxSeq = scan.maxSeq;
        maxEpoch = scan.maxEpoch;
        scan.damaged.forEach(damaged::putIfAbsent);
        if (scan.committed.size() == before) {
            return Optional.empty();
        }
        Entry entry = scan.committed.getLast();
        committed.put(entry.header().seq(), entry);
        listCycles(entry);
        return Optional.of(entry.mark());
    }

    synchronized Optional<CheckpointMark> tornHeader() {
        return scan.tornHeader();
    }

    private synchronized Entry entry(long seq) {
        Entry entry = committed.get(seq);
        if (entry != null) {
            return entry;
        }
        Problem problem = damaged.get(seq);
        if (problem != null) {
            throw new JournalException("checkpoint seq " + seq + " of journal " + dir + " is damaged: " + problem
                    + "; restore an earlier checkpoint (`hotclone journal verify " + dir + "` lists every problem)");
        }
        throw new JournalException("journal " + dir + " has no committed checkpoint seq " + seq + " (it holds "
                + (committed.isEmpty() ? "none" : committed.size() + " from seq " + committed.firstKey() + " to "
                + committed.lastKey()) + ")");
    }

    private RecordType checkEnvelope(long seq, Envelope.Stored r) {
        try {
            RecordType type = r.type();
            if (r.seq() != seq) {
                throw new BadRecord(type.label(), "belongs to checkpoint seq " + r.seq());
            }
            return type;
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        }
    }

    private void checkCrc(long seq, Envelope.Stored r, RecordType type) {
        try {
            r.checkCrc(type);
        } catch (BadRecord e) {
            throw recordError(seq, r.index(), e);
        }
    }

    private JournalException recordError(long seq, long index, BadRecord e) {
        return new JournalException("journal " + dir + ", checkpoint seq " + seq + ", index " + JournalFormat.formatIndex(index)
                + ": " + e.getMessage() + "; this checkpoint cannot be restored: restore an earlier one"
                + " (`hotclone journal verify " + dir + "` lists every problem)");
    }

    private void seek(ExcerptTailer tailer, long index, long seq) {
        if (!tailer.moveToIndex(index)) {
            tailer.close();
            throw new JournalException("journal " + dir + " lost index " + JournalFormat.formatIndex(index)
                    + " of checkpoint seq " + seq + ": were its queue files deleted or moved?");
        }
    }

    /** Hands the records of one committed checkpoint, header to commit, to {@code visitor}. */
    private void visit(Entry entry, Consumer<Envelope.Stored> visitor) {
        RollCycle rollCycle = files.rollCycle();
        int cycle = rollCycle.toCycle(entry.firstIndex());
        int lastCycle = rollCycle.toCycle(entry.lastIndex());
        long from = rollCycle.toSequenceNumber(entry.firstIndex());
        while (true) {
            long until = cycle == lastCycle ? rollCycle.toSequenceNumber(entry.lastIndex()) : -1;
            CycleFiles.Stop stop = files.read(cycle, from, until, visitor);
            if (stop == null) {
                return;
            }
            Integer next = stop.end() == CycleFiles.End.TRUNCATED ? null : files.list().higherKey(cycle);
            if (next == null || next > lastCycle) {
                throw new JournalException("journal " + dir + " ends inside checkpoint seq " + entry.header().seq()
                        + ", before index " + JournalFormat.formatIndex(entry.lastIndex()) + ": its queue file "
                        + files.nameOf(cycle) + " was cut short or the next one deleted (`hotclone journal verify "
                        + dir + "` says what was lost); restore an earlier checkpoint");
            }
            cycle = next;
            from = 0;
        }
    }

    /**
     * Hands every record of the journal to {@code scan}, file by file, and tells it of every file
     * {@link CycleList} lists that is missing, and of every file cut short, where the loss lies.
     */
    private void visitAll(JournalScan scan) {
        TreeMap<Integer, Path> present = files.list();
        TreeSet<Integer> cycles = new TreeSet<>(present.keySet());
        cycleList.names().forEach(name -> cycles.add(files.cycleOf(name)));
        for (int cycle : cycles) {
            String name = files.nameOf(cycle);
            if (!present.containsKey(cycle)) {
                scan.lost(name, "is missing, though " + CycleList.FILE + " lists it as holding checkpoints (deleted?)");
                continue;
            }
            CycleFiles.Stop stop = files.read(cycle, 0, -1, scan::accept);
            if (stop.end() == CycleFiles.End.TRUNCATED) {
                scan.lost(name, stop.size() == 0 ? "is empty (0 bytes): it was truncated"
                        : "ends at byte " + stop.size() + (stop.at() + Integer.BYTES < stop.size()
                        ? ", inside the record at byte " + stop.at() : ", where a record should begin")
                        + ": it was truncated");
            }
        }
    }

    /** The record of an open, present document, as a view of the mapped file valid while it is open. */
    static Envelope.Stored stored(DocumentContext dc) {
        Bytes<?> bytes = dc.wire().bytes();
        long start = bytes.readPosition();
        long length = bytes.readRemaining();
        // The two-argument form guarantees the whole document is contiguous in one mapping.
        long address = bytes.addressForRead(start, (int) length);
        return new Envelope.Stored(dc.index(), MemorySegment.ofAddress(address).reinterpret(length),
                QueueFileIo.fileOf(bytes), start);
    }

    private static void checkMarker(Path dir) {
        String text;
        try {
            text = Files.readString(dir.resolve(MARKER));
        } catch (IOException e) {
            throw new JournalException("cannot read " + dir.resolve(MARKER) + " (" + JournalException.describe(e)
                    + "): check the permissions of the journal directory");
        }
        if (!text.equals(MARKER_TEXT)) {
            throw new JournalException(dir + " holds a journal this hotclone cannot read (its " + MARKER + " file says \""
                    + text.strip() + "\", this hotclone reads \"" + MARKER_TEXT.strip() + "\"): use the hotclone that wrote it");
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.allMatch(JournalLock::isLockFile);
        } catch (IOException e) {
            throw new JournalException("cannot list journal directory " + dir + " (" + JournalException.describe(e)
                    + "): check its permissions");
        }
    }

    private static JournalException notWritable(Path dir, String why) {
        return new JournalException("journal directory " + dir + " is not writable (" + why
                + "): give a directory this user can write, or fix its permissions (chmod u+w " + dir + ")");
    }
}
