package io.hotclone.journal;

import io.hotclone.testkit.Seconds;
import io.hotclone.image.CheckpointKind;
import io.hotclone.testkit.QueueDocs;
import io.hotclone.testkit.QueueDocs.Doc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queue files damaged the way a disk, a careless copy or a person does it: cut short anywhere,
 * emptied, deleted (first, middle, last), swapped, bytes flipped. Every reader reports it, naming
 * the file, and every checkpoint before the damage stays readable.
 */
class JournalDamageTest {
    private static final int PAGE = Images.PAGE;

    @TempDir
    Path tmp;

    /**
     * Three queue files of one second each: A holds 1 (full) and 2 (on 1), B 3 (on 2) and 4
     * (full), C 5 (on 4) and 6 (on 5).
     */
    private Path threeFiles() {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = TestJournals.secondly(dir)) {
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 1);
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.INCREMENTAL, 2);
            write(journal, arena, CheckpointKind.FULL, -1);
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.INCREMENTAL, 4);
            write(journal, arena, CheckpointKind.INCREMENTAL, 5);
        }
        return dir;
    }

    private static void write(Journal journal, Arena arena, CheckpointKind kind, long baseSeq) {
        Checkpoints.write(journal, kind, baseSeq, 1, List.of(Checkpoints.contents(arena, journal.nextSeq(), 2 * PAGE)));
    }

    private static Path file(Path dir, int n) throws IOException {
        List<Path> files = QueueFiles.cycleFiles(dir);
        assertEquals(3, files.size(), "three queue files: " + files);
        return files.get(n);
    }

    /** Every committed checkpoint reads back whole, its pages CRC-checked. */
    private static void assertReadable(Journal journal) {
        for (CheckpointSummary c : journal.checkpoints()) {
            assertEquals(c.seq(), journal.read(c.seq()).header().seq());
            journal.pages(c.seq(), (address, contents) -> { });
        }
    }

    private static List<Long> seqs(Journal journal) {
        return journal.checkpoints().stream().map(CheckpointSummary::seq).toList();
    }

    private static String describe(VerifyReport report) {
        return report.problems() + " " + report.losses();
    }

    @Test
    void theLastFileCutAnywhereIsALossThatVerifyNamesAndNoReadFaults() throws IOException {
        Path original = threeFiles();
        List<Doc> records = QueueDocs.records(file(original, 2));
        Doc commit5 = records.get(records.size() / 2 - 1);
        Doc last = records.getLast();
        // cut: empty, inside the queue header, mid-record, where a record begins, one byte short of the end
        for (long size : new long[] {0, 40, last.header() + 10, (commit5.end() + 3) & ~3, last.end() - 1}) {
            Path dir = tmp.resolve("cut-" + size);
            copy(original, dir);
            Path victim = file(dir, 2);
            QueueFiles.truncate(victim, size);
            try (Journal journal = Journal.inspect(dir)) {
                VerifyReport report = journal.verify();
                assertFalse(report.clean(), "a cut file at " + size);
                assertEquals(1, report.losses().size(), describe(report));
                VerifyReport.Loss loss = report.losses().getFirst();
                assertEquals(victim.getFileName().toString(), loss.file());
                assertTrue(loss.toString().contains("truncated"), loss.toString());
                List<Long> expected = size >= commit5.end() ? List.of(1L, 2L, 3L, 4L, 5L) : List.of(1L, 2L, 3L, 4L);
                assertEquals(expected, seqs(journal), "cut at " + size);
                assertReadable(journal);
                NewestSound newest = journal.newestSound();
                assertEquals(expected.getLast(), newest.seq());
                assertTrue(newest.passedOver().isPresent(), "what is lost after seq " + newest.seq() + " is said");
            }
            JournalException refused = assertThrows(JournalException.class, () -> Journal.create(dir));
            assertTrue(refused.getMessage().contains("lost records"), refused.getMessage());
        }
    }

    @Test
    void aMissingFirstMiddleOrLastFileIsNamedAndTheRestStaysReadable() throws IOException {
        Path original = threeFiles();
        // which file goes -> what stays committed, the newest sound seq, whether restore must refuse
        record Case(int file, List<Long> committed, long newest, boolean passesOver) {
        }
        for (Case c : List.of(new Case(0, List.of(4L, 5L, 6L), 6, false),
                new Case(1, List.of(1L, 2L, 5L, 6L), 2, true),
                new Case(2, List.of(1L, 2L, 3L, 4L), 4, true))) {
            Path dir = tmp.resolve("missing-" + c.file());
            copy(original, dir);
            Path victim = file(dir, c.file());
            Files.delete(victim);
            try (Journal journal = Journal.inspect(dir)) {
                VerifyReport report = journal.verify();
                assertEquals(1, report.losses().size(), describe(report));
                assertEquals(victim.getFileName().toString(), report.losses().getFirst().file());
                assertTrue(report.losses().getFirst().what().contains("missing"), describe(report));
                assertEquals(c.committed(), seqs(journal), "without file " + c.file());
                NewestSound newest = journal.newestSound();
                assertEquals(c.newest(), newest.seq(), "without file " + c.file());
                assertEquals(c.passesOver(), newest.passedOver().isPresent(), newest.toString());
                journal.read(newest.seq());
                journal.pages(newest.seq(), (address, contents) -> { });
            }
        }
    }

    @Test
    void swappedFilesAreNamedAsOutOfOrder() throws IOException {
        Path dir = threeFiles();
        Path first = file(dir, 0);
        Path last = file(dir, 2);
        String middle = file(dir, 1).getFileName().toString();
        Path aside = dir.resolve("aside");
        Files.move(first, aside);
        Files.move(last, first);
        Files.move(aside, last);
        try (Journal journal = Journal.inspect(dir)) {
            VerifyReport report = journal.verify();
            assertFalse(report.clean());
            assertTrue(report.problems().stream().anyMatch(p -> p.what().contains("does not follow")
                    && p.file().equals(middle)), describe(report));
            assertReadable(journal);
        }
    }

    @Test
    void aFlippedHeaderOrCommitOfTheNewestCheckpointIsNamedAndPassedOverOnlyWhenAsked() throws IOException {
        Path original = threeFiles();
        List<Doc> records = QueueDocs.records(file(original, 2));
        Doc header6 = records.get(records.size() / 2);
        for (Doc victim : List.of(header6, records.getLast())) {
            Path dir = tmp.resolve("flip-" + victim.header());
            copy(original, dir);
            Path file = file(dir, 2);
            QueueFiles.flip(file, victim.header() + 4 + victim.length() / 2);
            try (Journal journal = Journal.inspect(dir)) {
                VerifyReport report = journal.verify();
                assertEquals(1, report.problems().size(), describe(report));
                VerifyReport.Problem problem = report.problems().getFirst();
                assertEquals(file.getFileName().toString(), problem.file());
                assertEquals(6, problem.seq());
                assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(journal));
                NewestSound newest = journal.newestSound();
                assertEquals(5, newest.seq());
                assertTrue(newest.passedOver().orElseThrow().contains("the newest checkpoint seq 6 is damaged"),
                        newest.toString());
                assertReadable(journal);
            }
        }
    }

    @Test
    void theProductionCycleWritesFiveMinuteFilesThatTheCycleListNames() throws IOException {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            write(journal, arena, CheckpointKind.FULL, -1);
        }
        List<Path> files = QueueFiles.cycleFiles(dir);
        assertEquals(1, files.size());
        String name = files.getFirst().getFileName().toString();
        assertTrue(name.matches("\\d{8}-\\d{4}V\\.cq4"), "a five-minute cycle's file: " + name);
        assertEquals(List.of(name), Files.readAllLines(dir.resolve(CycleList.FILE)));
        try (Journal journal = Journal.open(dir)) {
            assertTrue(journal.verify().clean());
            assertEquals(List.of(1L), seqs(journal));
        }
        Files.delete(files.getFirst());
        try (Journal journal = Journal.inspect(dir)) {
            VerifyReport report = journal.verify();
            assertEquals(name, report.losses().getFirst().file(), describe(report));
            assertEquals(List.of(), seqs(journal));
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.filter(f -> !JournalLock.isLockFile(f)).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
