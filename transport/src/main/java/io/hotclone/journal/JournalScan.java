package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.ImageHeader;
import io.hotclone.journal.Envelope.BadRecord;
import io.hotclone.journal.VerifyReport.Loss;
import io.hotclone.journal.VerifyReport.Problem;
import io.hotclone.journal.VerifyReport.Uncommitted;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One pass over the records of a journal, in queue order, that groups them into checkpoints (a
 * header opens one, its commit closes it) and checks each record and each checkpoint.
 * A checkpoint becomes committed only if its commit arrives and none of its checked records has a
 * problem. A loss (a queue file missing or cut short, see {@link #lost}) damages the checkpoint it
 * cuts, and the records after it count only from the next header on.
 */
final class JournalScan {

    /** How much a scan reads. */
    enum Depth {
        /** Every envelope, every metadata CRC, headers and commits decoded; page payloads are not
         *  read, so opening a journal costs little more than its metadata. */
        INDEX,
        /** Every CRC, pages included, and every record decoded. */
        VERIFY
    }

    /** A committed checkpoint, where its records lie in the queue, and its commit record's CRC. */
    record Entry(ImageHeader header, Commit commit, long firstIndex, long lastIndex, int commitCrc) {
        CheckpointMark mark() {
            return new CheckpointMark(header.seq(), header.epoch(), commitCrc);
        }

        CheckpointSummary summary() {
            return new CheckpointSummary(header.seq(), header.kind(), header.baseSeq(), header.epoch(),
                    commit.pages(), commit.pageBytes(), commit.freezeMicros(), commit.durationMicros(),
                    header.capturedAtMillis(), commit.failedBefore());
        }
    }

    private final Depth depth;
    private final CycleFiles files;
    final List<Entry> committed = new ArrayList<>();
    /** The first problem of each checkpoint that has one, by seq. */
    final Map<Long, Problem> damaged = new HashMap<>();
    final List<Problem> problems = new ArrayList<>();
    final List<Loss> losses = new ArrayList<>();
    final List<Uncommitted> abandoned = new ArrayList<>();
    long records;
    /** Highest seq and epoch of any readable header. */
    long maxSeq;
    long maxEpoch;
    private Pending open;
    /** The seq of the first header read, or 0 before it: a journal whose head was dropped
     *  (retention, {@link JournalFiles#dropBefore}) starts past seq 1, maybe inside a checkpoint. */
    private long firstSeq;
    /** Whether records are skipped until the next header: at the start, and after a loss. */
    private boolean seekingHeader = true;

    JournalScan(Depth depth, CycleFiles files) {
        this.depth = depth;
        this.files = files;
    }

    /**
     * The records of queue file {@code file} after this point, up to its end, are lost
     * ({@code what} says how): the checkpoint they cut is damaged, and records that follow
     * count only from the next header on.
     */
    void lost(String file, String what) {
        Loss loss = new Loss(file, open == null ? maxSeq : open.seq - 1, what);
        losses.add(loss);
        if (open != null) {
            damaged.putIfAbsent(open.seq, new Problem(open.seq, open.firstIndex, file, RecordType.HEADER.label(),
                    "the checkpoint is cut short: " + loss));
            open = null;
        }
        seekingHeader = true;
    }

    /** The checkpoint the journal ends in without its commit, if any. */
    Optional<Uncommitted> tornTail() {
        return Optional.ofNullable(open).map(Pending::uncommitted);
    }

    /** The header of the checkpoint the journal ends in without its commit, if any. */
    Optional<CheckpointMark> tornHeader() {
        return Optional.ofNullable(open).map(p -> new CheckpointMark(p.seq, p.epoch, p.headerCrc));
    }

    VerifyReport report() {
        List<Problem> all = new ArrayList<>(problems);
        all.addAll(brokenChains());
        return new VerifyReport(committed.size(), records, all, losses, abandoned, tornTail());
    }

    /** Forgets the committed checkpoints whose chain leads below the first header read: their
     *  bases were dropped with the head of the journal, so they cannot be restored and never will. */
    void forgetDroppedHead() {
        Map<Long, Entry> bySeq = new HashMap<>();
        committed.forEach(e -> bySeq.put(e.header().seq(), e));
        committed.removeIf(e -> {
            ImageHeader h = e.header();
            while (h.kind() == CheckpointKind.INCREMENTAL && bySeq.containsKey(h.baseSeq())) {
                h = bySeq.get(h.baseSeq()).header();
            }
            return h.kind() == CheckpointKind.INCREMENTAL && h.baseSeq() < firstSeq;
        });
    }

    /** Every incremental checkpoint whose chain does not lead, through committed ones, to a full one. */
    private List<Problem> brokenChains() {
        Map<Long, Entry> bySeq = new HashMap<>();
        committed.forEach(e -> bySeq.put(e.header().seq(), e));
        List<Problem> broken = new ArrayList<>();
        for (Entry e : committed) {
            ImageHeader h = e.header();
            while (h.kind() == CheckpointKind.INCREMENTAL) {
                Entry base = bySeq.get(h.baseSeq());
                if (base == null) {
                    broken.add(new Problem(e.header().seq(), e.firstIndex(), fileOf(e.firstIndex()), RecordType.HEADER.label(),
                            "the incremental chain breaks at seq " + h.seq() + ", whose base seq " + h.baseSeq()
                                    + " is not committed: this checkpoint cannot be restored"));
                    break;
                }
                h = base.header();
            }
        }
        return broken;
    }

    void accept(Envelope.Stored r) {
        records++;
        RecordType type;
        try {
            type = r.type();
        } catch (BadRecord e) {
            boolean ownRecord = open != null && (!r.complete() || r.seq() == open.seq);
            if (ownRecord) {
                open.records++;
                damage(r.index(), e);
            } else {
                problems.add(new Problem(r.complete() ? r.seq() : -1, r.index(), fileOf(r.index()), e.type, e.what));
            }
            return;
        }
        long reopened = 0;
        if (type != RecordType.HEADER && seekingHeader) {
            // the tail of a checkpoint whose header was dropped with the head of the journal, or lost
            return;
        }
        if (type == RecordType.HEADER) {
            seekingHeader = false;
            if (firstSeq == 0) {
                firstSeq = r.seq();
            }
            if (open != null) {
                abandoned.add(open.uncommitted());
                reopened = open.seq;
            }
            open = new Pending(r.seq(), r.epoch(), r.index(), r.storedCrc());
        } else if (open == null || r.seq() != open.seq) {
            problems.add(new Problem(r.seq(), r.index(), fileOf(r.index()), type.label(), open == null
                    ? "belongs to checkpoint seq " + r.seq() + " but no checkpoint is open here (its header is missing)"
                    : "belongs to checkpoint seq " + r.seq() + " but lies inside checkpoint seq " + open.seq));
            return;
        }
        open.records++;
        try {
            if (!type.carriesPages() || depth == Depth.VERIFY) {
                r.checkCrc(type);
            }
            if (r.epoch() != open.epoch) {
                throw new BadRecord(type.label(), "epoch " + r.epoch() + " inside a checkpoint of epoch " + open.epoch);
            }
            switch (type.role()) {
                case HEADER -> onHeader(r, reopened);
                case PAGES -> onPages(r, type);
                case COMMIT -> onCommit(r);
                case PROCESS, AREA, FD, STATE -> onMetadata(r, type);
            }
        } catch (BadRecord e) {
            damage(r.index(), e);
        } catch (RuntimeException e) {
            damage(r.index(), new BadRecord(type.label(), "cannot be decoded: " + e));
        }
        if (type == RecordType.COMMIT) {
            open = null; // committed, or damaged: either way not left uncommitted
        }
    }

    /** {@code reopened}: the seq of the checkpoint this header abandons, 0 if none. */
    private void onHeader(Envelope.Stored r, long reopened) throws BadRecord {
        ImageHeader h = (ImageHeader) ImageCodec.decode(RecordType.HEADER, r);
        String label = RecordType.HEADER.label();
        if (h.seq() != r.seq() || h.epoch() != r.epoch()) {
            throw new BadRecord(label, "says seq " + h.seq() + " epoch " + h.epoch() + " but its envelope says seq "
                    + r.seq() + " epoch " + r.epoch());
        }
        long previousSeq = maxSeq;
        long previousEpoch = maxEpoch;
        maxSeq = Math.max(maxSeq, h.seq());
        maxEpoch = Math.max(maxEpoch, h.epoch());
        open.header = h;
        if (h.formatVersion() != JournalFormat.FORMAT_VERSION) {
            throw new BadRecord(label, "journal format " + h.formatVersion() + "; this hotclone reads format "
                    + JournalFormat.FORMAT_VERSION);
        }
        // A replica whose link broke inside a checkpoint gets it again from its header: the one
        // seq that may come twice is that of the checkpoint the journal was left inside.
        boolean resent = h.seq() == reopened && h.seq() == previousSeq;
        if (h.seq() <= previousSeq && !resent) {
            throw new BadRecord(label, "seq " + h.seq() + " does not follow seq " + previousSeq
                    + ": checkpoint seqs must increase");
        }
        if (h.epoch() < previousEpoch) {
            throw new BadRecord(label, "epoch " + h.epoch() + " is older than epoch " + previousEpoch
                    + " of an earlier checkpoint: written by a fenced primary");
        }
    }

    private void onPages(Envelope.Stored r, RecordType type) throws BadRecord {
        if (open.header == null) {
            return; // its damaged header is the checkpoint's problem: without a page size, nothing to check
        }
        long length = r.pageContents().byteSize();
        int pageSize = open.header.pageSize();
        if (length > JournalFormat.MAX_RUN_BYTES) {
            throw new BadRecord(type.label(), String.format(
                    "%d bytes of pages at 0x%x, more than the %d of a record this hotclone reads (written by a newer"
                            + " hotclone?)", length, r.runAddress(0), JournalFormat.MAX_RUN_BYTES));
        }
        long runs = 0;
        for (int i = 0; i < r.runCount(); i++) {
            long run = r.runLength(i);
            if (run <= 0 || run % pageSize != 0 || r.runAddress(i) % pageSize != 0) {
                throw new BadRecord(type.label(), String.format(
                        "%d bytes at 0x%x are not whole pages of %d bytes", Math.max(run, 0), r.runAddress(i), pageSize));
            }
            runs += run;
        }
        if (runs != length) {
            throw new BadRecord(type.label(), "its runs add up to " + runs + " bytes, but it holds " + length);
        }
        open.pages += length / pageSize;
        open.pageBytes += length;
    }

    private void onMetadata(Envelope.Stored r, RecordType type) throws BadRecord {
        if (depth == Depth.VERIFY) {
            ImageCodec.decode(type, r);
        }
        switch (type.role()) {
            case PROCESS -> open.process = true;
            case AREA, FD, STATE -> {
                if (!open.process) {
                    throw new BadRecord(type.label(), "comes before the checkpoint's first process record, whose section"
                            + " it must belong to");
                }
                if (type.role() == RecordType.Role.AREA) {
                    open.areas++;
                } else if (type.role() == RecordType.Role.FD) {
                    open.fds++;
                }
            }
            case HEADER, PAGES, COMMIT -> {
            }
        }
    }

    private void onCommit(Envelope.Stored r) throws BadRecord {
        Commit c = (Commit) ImageCodec.decode(RecordType.COMMIT, r);
        String label = RecordType.COMMIT.label();
        Pending p = open;
        if (c.seq() != p.seq) {
            throw new BadRecord(label, "commits seq " + c.seq() + " inside checkpoint seq " + p.seq);
        }
        if (!p.process) {
            throw new BadRecord(label, "the checkpoint has no process record");
        }
        // Once a record is bad the counts cannot agree, and saying so again would only be noise.
        boolean countsDiffer = c.areas() != p.areas || c.fds() != p.fds || c.pages() != p.pages || c.pageBytes() != p.pageBytes;
        if (countsDiffer && !p.damaged) {
            throw new BadRecord(label, String.format(
                    "counts %d areas, %d fds, %d pages (%d bytes) but the checkpoint holds %d areas, %d fds, %d pages (%d bytes)",
                    c.areas(), c.fds(), c.pages(), c.pageBytes(), p.areas, p.fds, p.pages, p.pageBytes));
        }
        if (!p.damaged) {
            committed.add(new Entry(p.header, c, p.firstIndex, r.index(), r.storedCrc()));
        }
    }

    /** The name of the queue file that holds queue index {@code index}. */
    private String fileOf(long index) {
        return files.nameOf(files.rollCycle().toCycle(index));
    }

    /** Records a problem of the open checkpoint, which can then never become committed. */
    private void damage(long index, BadRecord e) {
        Problem problem = new Problem(open.seq, index, fileOf(index), e.type, e.what);
        problems.add(problem);
        damaged.putIfAbsent(open.seq, problem);
        open.damaged = true;
    }

    /** The checkpoint being read: from its header to its commit. */
    private static final class Pending {
        final long seq;
        final long epoch;
        final long firstIndex;
        final int headerCrc;
        ImageHeader header;
        long records;
        long pages;
        long pageBytes;
        int areas;
        int fds;
        boolean process;
        boolean damaged;

        Pending(long seq, long epoch, long firstIndex, int headerCrc) {
            this.seq = seq;
            this.epoch = epoch;
            this.firstIndex = firstIndex;
            this.headerCrc = headerCrc;
        }

        Uncommitted uncommitted() {
            return new Uncommitted(seq, firstIndex, records);
        }
    }
}
