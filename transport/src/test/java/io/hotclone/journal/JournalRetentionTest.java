package io.hotclone.journal;

import io.hotclone.testkit.Seconds;
import io.hotclone.image.CheckpointKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropping the roll cycles before a full checkpoint: what stays readable, what goes, and reopening. */
class JournalRetentionTest {
    private static final int PAGE = Images.PAGE;

    @TempDir
    Path tmp;

    @Test
    void droppingBeforeAFullCheckpointDeletesWholeCyclesAndKeepsEveryLaterCheckpoint() throws IOException {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = TestJournals.secondly(dir)) {
            // cycle A: 1 full, 2 on 1; cycle B: 3 on 2, 4 full, 5 on 4; cycle C: 6 full, 7 on 6.
            // Each cycle is written from its start on, well within its second.
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 1);
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.INCREMENTAL, 2);
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 4);
            Seconds.awaitNext();
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 6);
            assertEquals(3, cycleFiles(dir), "three roll cycles written");

            assertEquals(1, journal.dropCyclesBefore(4));

            assertEquals(2, cycleFiles(dir));
            assertEquals(List.of(4L, 5L, 6L, 7L), seqs(journal));
            assertThrows(JournalException.class, () -> journal.tailAfter(2), "a reader resuming at a dropped checkpoint");
            assertPagesIntact(journal, arena, 5);
            assertEquals(List.of(), journal.verify().problems());
        }
        try (Arena arena = Arena.ofConfined(); Journal reopened = Journal.create(dir)) {
            // cycle B begins with seq 3, whose base went with cycle A: it is forgotten too
            assertEquals(List.of(4L, 5L, 6L, 7L), seqs(reopened));
            assertEquals(List.of(), reopened.verify().problems());
            assertEquals(8, reopened.nextSeq());

            assertEquals(1, reopened.dropCyclesBefore(6));

            assertEquals(1, cycleFiles(dir));
            assertEquals(List.of(6L, 7L), seqs(reopened));
            assertPagesIntact(reopened, arena, 7);
            write(reopened, arena, CheckpointKind.INCREMENTAL, 7);
        }
        try (Arena arena = Arena.ofConfined(); Journal reopened = Journal.open(dir)) {
            assertEquals(List.of(6L, 7L, 8L), seqs(reopened));
            assertTrue(reopened.verify().clean(), "the files dropped are no loss: " + reopened.verify());
            assertPagesIntact(reopened, arena, 8);
        }
    }

    /** A standby left at seq 2 resumes from it: the primary must still know it holds it. */
    @Test
    void checkpointsBeforeTheFullOneInAKeptCycleStayListedAndHeld() {
        try (Arena arena = Arena.ofConfined(); Journal journal = TestJournals.secondly(tmp.resolve("j"))) {
            Seconds.awaitNext(); // all three in one file
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 1);
            CheckpointMark second = journal.lastCommit().orElseThrow();
            write(journal, arena, CheckpointKind.FULL, -1);

            assertEquals(0, journal.dropCyclesBefore(3));

            assertEquals(List.of(1L, 2L, 3L), seqs(journal));
            assertTrue(journal.holds(second));
            assertPagesIntact(journal, arena, 2);
        }
    }

    @Test
    void onlyACommittedFullCheckpointBoundsADrop() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("j"))) {
            write(journal, arena, CheckpointKind.FULL, -1);
            write(journal, arena, CheckpointKind.INCREMENTAL, 1);
            assertThrows(IllegalArgumentException.class, () -> journal.dropCyclesBefore(2));
            assertThrows(IllegalArgumentException.class, () -> journal.dropCyclesBefore(9));
            assertEquals(List.of(1L, 2L), seqs(journal));
        }
    }

    /** Writes the next checkpoint with one page run whose contents derive from its seq. */
    private static void write(Journal journal, Arena arena, CheckpointKind kind, long baseSeq) {
        long seq = journal.nextSeq();
        Checkpoints.write(journal, kind, baseSeq, 1, List.of(Checkpoints.contents(arena, seq, 2 * PAGE)));
    }

    private static void assertPagesIntact(Journal journal, Arena arena, long seq) {
        byte[] expected = Checkpoints.contents(arena, seq, 2 * PAGE).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[][] read = new byte[1][];
        journal.pages(seq, (address, contents) -> read[0] = contents.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertArrayEquals(expected, read[0], "pages of seq " + seq);
    }

    private static List<Long> seqs(Journal journal) {
        return journal.checkpoints().stream().map(CheckpointSummary::seq).toList();
    }

    private static long cycleFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".cq4")).count();
        }
    }
}
