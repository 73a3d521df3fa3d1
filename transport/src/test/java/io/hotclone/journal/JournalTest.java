package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.journal.VerifyReport.Problem;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.hotclone.journal.DeepEquals.assertDeepEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Writing checkpoints, reading them back, and what a torn or damaged journal looks like. */
class JournalTest {
    private static final int PAGE = Images.PAGE;
    private static final long AREA_START = Checkpoints.AREA_START;

    @TempDir
    Path tmp;

    private static CheckpointImage writeCheckpoint(Journal journal, CheckpointKind kind, long baseSeq,
                                                   List<MemorySegment> runs) {
        return Checkpoints.write(journal, kind, baseSeq, 1, runs);
    }

    private static CheckpointImage sampleImage(long seq, CheckpointKind kind, long baseSeq, long pageBytes) {
        return Checkpoints.image(seq, kind, baseSeq, 1, pageBytes);
    }

    private static CheckpointImage writeFull(Journal journal, MemorySegment... runs) {
        return writeCheckpoint(journal, CheckpointKind.FULL, -1, List.of(runs));
    }

    /** Every page record of {@code seq}, copied out of the sink. */
    private static List<Run> readRuns(Journal journal, long seq) {
        List<Run> runs = new ArrayList<>();
        journal.pages(seq, (address, contents) -> runs.add(new Run(address, contents.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))));
        return runs;
    }

    private record Run(long address, byte[] contents) {
    }

    /** How many page records a run of {@code bytes} is split into. */
    private static long records(long bytes) {
        return (bytes + JournalFormat.MAX_RUN_BYTES - 1) / JournalFormat.MAX_RUN_BYTES;
    }

    @Test
    void aCheckpointReadsBackWithEveryRecordAndFieldIntact() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            CheckpointImage written = writeFull(journal, Images.contents(arena, 1, 3 * PAGE));

            assertDeepEquals(written, journal.read(1));
            assertDeepEquals(written, journal.latest());
            assertEquals(List.of(new CheckpointSummary(1, CheckpointKind.FULL, -1, 1, 3, 3 * PAGE, 1234, 56789,
                    written.header().capturedAtMillis(), 3)), journal.checkpoints());
        }
        try (Journal reopened = Journal.open(tmp.resolve("j"))) {
            assertEquals(1, reopened.checkpoints().size());
            assertDeepEquals(sampleImage(1, CheckpointKind.FULL, -1, 3 * PAGE), reopened.read(1));
        }
    }

    /**
     * A program of two processes: each process record begins its section, the child's first;
     * the image lists the parent first, each with its own records, and the pages of one process
     * are read apart from the other's.
     */
    @Test
    void aCheckpointOfTwoProcessesKeepsEachOnesRecordsAndPagesApart() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            ProcessState p = Images.process();
            ProcessState root = withIds(p, 1, 0);
            ProcessState child = withIds(p, 2, 1);
            MemorySegment rootPages = Images.contents(arena, 1, 2 * PAGE);
            MemorySegment childPages = Images.contents(arena, 2, PAGE);
            try (CheckpointWriter w = journal.begin(Images.header(1, 1, CheckpointKind.FULL, -1))) {
                w.process(child);
                w.thread(Images.thread(2, false));
                w.area(Images.anonymous(AREA_START, 1));
                w.pages(AREA_START, childPages);
                w.process(root);
                w.thread(Images.thread(1, false));
                w.area(Images.anonymous(AREA_START, 2));
                w.fd(Images.device());
                w.pages(AREA_START, rootPages);
                w.commit(Images.commit(1, 2, 3L * PAGE, 1));
            }
            CheckpointImage image = journal.read(1);
            assertEquals(List.of(1, 2), image.processes().stream().map(ProcessImage::vpid).toList(),
                    "the program's first process first, then its child");
            assertEquals(1, image.root().fds().size());
            assertEquals(0, image.processes().get(1).fds().size(), "the child's section has no fd record");
            assertEquals(1, image.processes().get(1).areas().getFirst().length() / PAGE);
            List<Long> childBytes = new ArrayList<>();
            journal.pages(1, 2, (address, contents) -> childBytes.add(contents.byteSize()));
            assertEquals(List.of((long) PAGE), childBytes, "only the child's pages");
            List<Long> rootBytes = new ArrayList<>();
            journal.pages(1, 1, (address, contents) -> {
                assertEquals(-1, contents.mismatch(rootPages), "the parent's pages, byte for byte");
                rootBytes.add(contents.byteSize());
            });
            assertEquals(List.of(2L * PAGE), rootBytes);
            assertTrue(journal.verify().problems().isEmpty(), journal.verify().toString());
        }
    }

    private static ProcessState withIds(ProcessState p, int vpid, int vppid) {
        return new ProcessState(p.pid() + vpid, p.sessionLeader(), p.exe(), p.exeIdentity(), p.mm(), p.auxv(), p.cwd(),
                p.root(), p.umask(), p.personality(), p.rlimits(), p.sigactions(), p.sharedPending(), p.groupLeader(),
                p.uts(), vpid, vppid, 1, 0, 0, 0);
    }

    @Test
    void sixtyFourMiBOfPagesReadBackByteExactInRunsOfAtMostMaxRunBytes() {
        long total = 64L << 20;
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            MemorySegment all = Images.contents(arena, 64, total);
            // Uneven runs: one split into many records, one of a single page, one ending off a record boundary.
            long first = 40L << 20;
            writeFull(journal, all.asSlice(0, first), all.asSlice(first, PAGE), all.asSlice(first + PAGE, total - first - PAGE));

            List<Run> runs = new ArrayList<>();
            long[] delivered = {0};
            journal.pages(1, (address, contents) -> {
                assertTrue(contents.byteSize() <= JournalFormat.MAX_RUN_BYTES, "run of " + contents.byteSize() + " bytes");
                assertEquals(AREA_START + delivered[0], address, "runs arrive in order, back to back");
                MemorySegment expected = all.asSlice(delivered[0], contents.byteSize());
                assertEquals(-1, expected.mismatch(contents), "bytes of the run at 0x" + Long.toHexString(address));
                delivered[0] += contents.byteSize();
                runs.add(new Run(address, new byte[0]));
            });
            assertEquals(total, delivered[0]);
            long rest = total - first - PAGE;
            assertEquals(records(first) + 1 + records(rest), runs.size());
            assertEquals(total / PAGE, journal.checkpoints().getFirst().pages());
        }
    }

    @Test
    void pagesFromASharedArenaOrTheHeapAreWrittenToo() {
        // A capture thread hands pages to the appender thread in a shared arena.
        try (Arena shared = Arena.ofShared(); Journal journal = Journal.create(tmp.resolve("j"))) {
            MemorySegment native_ = Images.contents(shared, 1, 2 * PAGE);
            MemorySegment heap = MemorySegment.ofArray(Images.bytes(2, PAGE));
            writeFull(journal, native_, heap);
            List<Run> runs = readRuns(journal, 1);
            assertEquals(-1, native_.mismatch(MemorySegment.ofArray(runs.get(0).contents())));
            assertEquals(-1, heap.mismatch(MemorySegment.ofArray(runs.get(1).contents())));
        }
    }

    @Test
    void theSinkSeesAReadOnlyViewThatDiesWithTheCall() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            writeFull(journal, Images.contents(arena, 2, PAGE));
            List<MemorySegment> kept = new ArrayList<>();
            journal.pages(1, (address, contents) -> {
                assertTrue(contents.isReadOnly());
                kept.add(contents);
            });
            assertThrows(IllegalStateException.class, () -> kept.getFirst().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void anIncrementalCheckpointAppendsToAReopenedJournal() {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined()) {
            try (Journal journal = Journal.create(dir)) {
                assertEquals(1, journal.nextSeq());
                writeFull(journal, Images.contents(arena, 1, 2 * PAGE));
            }
            MemorySegment changed = Images.contents(arena, 2, PAGE);
            try (Journal journal = Journal.create(dir)) {
                assertEquals(2, journal.nextSeq());
                writeCheckpoint(journal, CheckpointKind.INCREMENTAL, 1, List.of(changed));
            }
            try (Journal journal = Journal.open(dir)) {
                assertEquals(List.of(1L, 2L), journal.checkpoints().stream().map(CheckpointSummary::seq).toList());
                CheckpointSummary second = journal.checkpoints().get(1);
                assertEquals(CheckpointKind.INCREMENTAL, second.kind());
                assertEquals(1, second.baseSeq());
                assertEquals(2, journal.latest().header().seq());
                List<Run> runs = readRuns(journal, 2);
                assertEquals(1, runs.size());
                assertEquals(-1, changed.mismatch(MemorySegment.ofArray(runs.getFirst().contents())));
            }
        }
    }

    @Test
    void anUncommittedTailIsInvisibleAndVerifyNamesIt() {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
            CheckpointWriter torn = journal.begin(Images.full(2));
            torn.process(Images.process());
            torn.pages(AREA_START, Images.contents(arena, 2, 2L * JournalFormat.MAX_RUN_BYTES));
            torn.close();

            assertEquals(1, journal.checkpoints().size());
            assertEquals(1, journal.latest().header().seq());
            assertEquals(3, journal.nextSeq(), "a torn seq is never reused");
        }
        try (Journal journal = Journal.open(dir)) {
            assertEquals(List.of(1L), journal.checkpoints().stream().map(CheckpointSummary::seq).toList());
            assertEquals(3, journal.nextSeq());
            JournalException e = assertThrows(JournalException.class, () -> journal.read(2));
            assertTrue(e.getMessage().contains("no committed checkpoint seq 2"), e.getMessage());

            VerifyReport report = journal.verify();
            assertTrue(report.clean(), report.problems().toString());
            assertEquals(1, report.checkpointsOk());
            VerifyReport.Uncommitted tail = report.tornTail().orElseThrow();
            assertEquals(2, tail.seq());
            assertEquals(4, tail.records(), "header, process, two page records");
            assertTrue(report.abandoned().isEmpty());
            assertTrue(tail.toString().matches("seq 2 \\(uncommitted, 4 records from index 0x[0-9a-f]+\\)"), tail.toString());
        }
    }

    @Test
    void aCheckpointAbandonedBeforeALaterOneIsNotATornTail() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            journal.begin(Images.full(1)).close();
            writeFull(journal, Images.contents(arena, 1, PAGE));

            VerifyReport report = journal.verify();
            assertTrue(report.clean());
            assertTrue(report.tornTail().isEmpty());
            assertEquals(List.of(1L), report.abandoned().stream().map(VerifyReport.Uncommitted::seq).toList());
            assertEquals(List.of(2L), journal.checkpoints().stream().map(CheckpointSummary::seq).toList());
        }
    }

    @Test
    void scatteredRunsInOneRecordReadBackRunByRun() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            long[] addresses = {AREA_START, AREA_START + 16 * PAGE, AREA_START + 100 * PAGE};
            long[] lengths = {PAGE, 2 * PAGE, 3 * PAGE};
            MemorySegment contents = Images.contents(arena, 7, 6 * PAGE);
            CheckpointWriter w = Checkpoints.begin(journal, CheckpointKind.FULL, -1, 1, List.of());
            assertThrows(IllegalArgumentException.class, () -> w.pages(addresses, lengths, 3, contents.asSlice(0, 5 * PAGE)),
                    "runs that do not add up to the contents are refused");
            w.pages(addresses, lengths, 3, contents);
            Checkpoints.commit(w, 1, 6 * PAGE);
            w.close();

            List<Run> runs = readRuns(journal, 1);
            assertEquals(3, runs.size());
            long at = 0;
            for (int i = 0; i < 3; i++) {
                assertEquals(addresses[i], runs.get(i).address());
                assertEquals(-1, contents.asSlice(at, lengths[i]).mismatch(MemorySegment.ofArray(runs.get(i).contents())),
                        "run " + i);
                at += lengths[i];
            }
            assertEquals(6, journal.checkpoints().getFirst().pages());
            assertTrue(journal.verify().clean(), journal.verify().problems().toString());
        }
    }

    @Test
    void aFlippedPageByteIsNamedByPagesAndVerify() throws Exception {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            MemorySegment pages = Images.contents(arena, 3, 3L << 20);
            writeFull(journal, pages);
            // A byte in the middle of the pages.
            QueueFiles.flipFirst(dir, pages.asSlice((3L << 19), 64).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
        try (Journal journal = Journal.open(dir)) {
            assertEquals(1, journal.checkpoints().size(), "page CRCs are checked when pages are read, not on open");
            journal.read(1);
            JournalException e = assertThrows(JournalException.class, () -> journal.pages(1, (a, c) -> { }));
            assertTrue(e.getMessage().matches(".*checkpoint seq 1, index 0x[0-9a-f]+: pages record: CRC32C mismatch.*"),
                    e.getMessage());

            VerifyReport report = journal.verify();
            assertFalse(report.clean());
            Problem p = report.problems().getFirst();
            assertEquals(1, p.seq());
            assertEquals("pages", p.recordType());
            assertTrue(p.what().startsWith("CRC32C mismatch"), p.what());
            assertEquals(1, report.problems().size(), report.problems().toString());
            assertEquals(0, report.checkpointsOk());
        }
    }

    @Test
    void verifyNamesAnIncrementalCheckpointWhoseBaseIsDamaged() throws Exception {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
            writeCheckpoint(journal, CheckpointKind.INCREMENTAL, 1, List.of(Images.contents(arena, 2, PAGE)));
        }
        QueueFiles.flipFirst(dir, Images.thread(4242, true).registers());
        try (Journal journal = Journal.open(dir)) {
            List<Problem> problems = journal.verify().problems();
            assertEquals(2, problems.size(), problems.toString());
            assertTrue(problems.stream().anyMatch(p -> p.seq() == 2 && p.what().contains("base seq 1 is not committed")),
                    problems.toString());
        }
    }

    @Test
    void aFlippedMetadataByteHidesTheCheckpointAndReadNamesTheRecord() throws Exception {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
            writeFull(journal, Images.contents(arena, 2, PAGE));
        }
        // The first thread record's registers: found in both checkpoints, flipped in the first.
        QueueFiles.flipFirst(dir, Images.thread(4242, true).registers());
        try (Journal journal = Journal.open(dir)) {
            assertEquals(List.of(2L), journal.checkpoints().stream().map(CheckpointSummary::seq).toList());
            JournalException e = assertThrows(JournalException.class, () -> journal.read(1));
            assertTrue(e.getMessage().matches(
                    ".*seq 1 of journal .* is damaged: seq 1, index 0x[0-9a-f]+ in \\d{8}-\\d{4}V\\.cq4, thread record: CRC32C mismatch.*"),
                    e.getMessage());
            List<Problem> problems = journal.verify().problems();
            assertEquals(1, problems.size());
            assertEquals("thread", problems.getFirst().recordType());
        }
    }

    @Test
    void unknownRecordTypesAndVersionsAreNamedWithTheirIndex() throws Exception {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
        }
        QueueFiles.appendRaw(dir, 99, 1, 2);
        QueueFiles.appendRaw(dir, RecordType.of(Images.thread(7, false)).tag(), 7, 2);
        try (Journal journal = Journal.open(dir)) {
            List<Problem> problems = journal.verify().problems();
            assertEquals(2, problems.size(), problems.toString());
            assertEquals("tag 99", problems.get(0).recordType());
            assertTrue(problems.get(0).what().startsWith("unknown record type tag 99; this hotclone reads tags [1, 2"),
                    problems.get(0).what());
            assertEquals("thread", problems.get(1).recordType());
            assertTrue(problems.get(1).what().startsWith("record version 7; this hotclone reads version 1"),
                    problems.get(1).what());
            assertTrue(problems.get(1).index() > problems.get(0).index());
            assertEquals(1, journal.checkpoints().size(), "stray records leave committed checkpoints alone");
        }
    }

    @Test
    void aVersionOneCommitOfAnOlderHotcloneStillCommitsItsCheckpointWithItsFailuresUnknown() {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
            Checkpoints.begin(journal, CheckpointKind.FULL, -1, 1, List.of(Images.contents(arena, 2, PAGE))).close();
        }
        QueueFiles.appendRaw(dir, RecordType.COMMIT.tag(), 1, 2, versionOneCommit(sampleImage(2, CheckpointKind.FULL, -1, PAGE).commit()));
        try (Journal journal = Journal.open(dir)) {
            assertEquals(List.of(3, Commit.FAILED_BEFORE_UNKNOWN),
                    journal.checkpoints().stream().map(CheckpointSummary::failedBefore).toList());
            Commit read = journal.read(2).commit();
            assertEquals(new Commit(2, 2, 1, PAGE, 3, 1234, 56789, Commit.FAILED_BEFORE_UNKNOWN), read);
            VerifyReport report = journal.verify();
            assertTrue(report.clean() && report.checkpointsOk() == 2, report.toString());
        }
    }

    /** A commit's payload as record version 1 wrote it: every field but failedBefore, which it did not have. */
    private static byte[] versionOneCommit(Commit c) {
        Wire w = WireType.BINARY_LIGHT.apply(Bytes.allocateElasticOnHeap());
        w.write("seq").int64(c.seq());
        w.write("areas").int32(c.areas());
        w.write("pages").int64(c.pages());
        w.write("pageBytes").int64(c.pageBytes());
        w.write("fds").int32(c.fds());
        w.write("freezeMicros").int64(c.freezeMicros());
        w.write("durationMicros").int64(c.durationMicros());
        return w.bytes().toByteArray();
    }

    @Test
    void createRefusesADirectoryUnderARegularFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        JournalException e = assertThrows(JournalException.class, () -> Journal.create(file.resolve("journal")));
        assertTrue(e.getMessage().startsWith("cannot create journal directory " + file.resolve("journal")),
                e.getMessage());
    }

    @Test
    void createRefusesAReadOnlyDirectory() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("ro"));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
        // root writes through 0555, so this case shows only for other users; /proc is closed to root too.
        boolean root = Files.isWritable(dir);
        Path target = root ? Path.of("/proc/self/hotclone-journal") : dir;
        JournalException e = assertThrows(JournalException.class, () -> Journal.create(target));
        assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("give a directory"), e.getMessage());
    }

    @Test
    void createRefusesADirectoryHoldingSomethingElse() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("other"));
        Files.writeString(dir.resolve("notes.txt"), "mine");
        JournalException e = assertThrows(JournalException.class, () -> Journal.create(dir));
        assertTrue(e.getMessage().contains("is not empty and holds no hotclone journal"), e.getMessage());
    }

    @Test
    void openRefusesAMissingDirectory() {
        Path dir = tmp.resolve("missing");
        JournalException e = assertThrows(JournalException.class, () -> Journal.open(dir));
        assertEquals("no journal at " + dir + ": it does not exist; give the journal directory the checkpoints "
                + "were written to", e.getMessage());
    }

    @Test
    void openRefusesADirectoryThatIsNotAJournal() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("plain"));
        JournalException e = assertThrows(JournalException.class, () -> Journal.open(dir));
        assertTrue(e.getMessage().contains("is not a hotclone journal (it has no hotclone-journal file)"), e.getMessage());
    }

    @Test
    void openRefusesAJournalWithoutACommittedCheckpoint() {
        Path dir = tmp.resolve("j");
        Journal.create(dir).close();
        JournalException empty = assertThrows(JournalException.class, () -> Journal.open(dir));
        assertTrue(empty.getMessage().contains("holds no committed checkpoint"), empty.getMessage());

        try (Journal journal = Journal.create(dir)) {
            journal.begin(Images.full(1)).close();
        }
        JournalException torn = assertThrows(JournalException.class, () -> Journal.open(dir));
        assertTrue(torn.getMessage().contains("holds no committed checkpoint"), torn.getMessage());
        try (Journal journal = Journal.inspect(dir)) {
            assertEquals(1, journal.verify().tornTail().orElseThrow().seq());
        }
    }

    @Test
    void beginEnforcesSeqEpochAndOneWriterAtATime() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            assertThrows(IllegalArgumentException.class, () -> journal.begin(Images.full(2)));
            assertThrows(IllegalArgumentException.class,
                    () -> journal.begin(Images.header(1, 1, CheckpointKind.INCREMENTAL, 0)));
            journal.begin(Images.header(1, 5, CheckpointKind.FULL, -1)).close();

            JournalException fenced = assertThrows(JournalException.class,
                    () -> journal.begin(Images.header(2, 4, CheckpointKind.FULL, -1)));
            assertTrue(fenced.getMessage().contains("a newer primary has taken over"), fenced.getMessage());

            try (CheckpointWriter open = journal.begin(Images.header(2, 5, CheckpointKind.FULL, -1))) {
                assertThrows(IllegalStateException.class, () -> journal.begin(Images.header(3, 5, CheckpointKind.FULL, -1)));
                open.process(Images.process());
            }
        }
    }

    @Test
    void aJournalOpenedForReadingRefusesToWrite() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            writeFull(journal, Images.contents(arena, 1, PAGE));
        }
        try (Journal journal = Journal.open(tmp.resolve("j"))) {
            assertThrows(IllegalStateException.class, () -> journal.begin(Images.full(2)));
        }
    }

    @Test
    void commitRefusesCountsThatDisagreeWithTheRecordsWritten() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            try (CheckpointWriter w = journal.begin(Images.full(1))) {
                w.process(Images.process());
                w.pages(AREA_START, Images.contents(arena, 1, 2 * PAGE));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> w.commit(new Commit(1, 0, 1, PAGE, 0, 1, 1, 0)));
                assertTrue(e.getMessage().contains("the writer wrote 0 areas, 0 fds, 2 pages (8192 bytes)"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> w.pages(AREA_START + 1, Images.contents(arena, 1, PAGE)));
                assertThrows(IllegalArgumentException.class, () -> w.pages(AREA_START, arena.allocate(100)));
            }
            assertTrue(journal.checkpoints().isEmpty());
        }
    }

    @Test
    void aWriterBelongsToTheThreadThatBeganIt() throws Exception {
        try (Journal journal = Journal.create(tmp.resolve("j")); CheckpointWriter w = journal.begin(Images.full(1))) {
            ThreadState t = Images.thread(1, false);
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> w.thread(t));
            ExecutionException e = assertThrows(ExecutionException.class, () -> other.get(10, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("thread-bound"), e.getCause().getMessage());
        }
    }
}
