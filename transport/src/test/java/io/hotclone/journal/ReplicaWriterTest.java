package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading a journal's raw records and appending them to a replica, as replication does. */
class ReplicaWriterTest {
    private static final int PAGE = Images.PAGE;

    @TempDir
    Path tmp;

    private static List<RawRecord> drain(RecordTailer tailer) {
        List<RawRecord> records = new ArrayList<>();
        for (RawRecord r = tailer.next(); r != null; r = tailer.next()) {
            records.add(new RawRecord(r.head(), MemorySegment.ofArray(r.bytes().toArray(ValueLayout.JAVA_BYTE))));
        }
        return records;
    }

    private static List<CheckpointMark> appendAll(ReplicaWriter writer, List<RawRecord> records) {
        List<CheckpointMark> committed = new ArrayList<>();
        records.forEach(r -> writer.append(r.bytes()).ifPresent(committed::add));
        return committed;
    }

    @Test
    void recordsAppendedVerbatimMakeAReplicaReadableAsEachCommitArrives() {
        try (Arena arena = Arena.ofConfined(); Journal primary = Journal.create(tmp.resolve("p"));
             Journal replica = Journal.create(tmp.resolve("r"))) {
            Checkpoints.write(primary, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, 20L << 20)));
            Checkpoints.write(primary, CheckpointKind.INCREMENTAL, 1, 1, List.of(Checkpoints.contents(arena, 2, PAGE)));
            try (RecordTailer tailer = primary.tailAfter(0); ReplicaWriter writer = replica.replicaWriter()) {
                List<RawRecord> records = drain(tailer);
                assertEquals(RawRecord.Kind.FULL_HEADER, records.getFirst().head().kind());
                assertEquals(List.of(primary.lastCommit().orElseThrow()), appendAll(writer, records).subList(1, 2));
                assertTrue(writer.tornHeader().isEmpty());
                Checkpoints.assertReplica(primary, replica, 1);
                assertTrue(replica.holds(primary.lastCommit().orElseThrow()));
            }
        }
        try (Journal primary = Journal.open(tmp.resolve("p")); Journal reopened = Journal.open(tmp.resolve("r"))) {
            Checkpoints.assertReplica(primary, reopened, 1);
        }
    }

    @Test
    void aCheckpointResentFromItsHeaderAfterATornTailCommitsOnce() {
        Path dir = tmp.resolve("r");
        try (Arena arena = Arena.ofConfined(); Journal primary = Journal.create(tmp.resolve("p"));
             Journal replica = Journal.create(dir)) {
            Checkpoints.write(primary, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, PAGE)));
            Checkpoints.write(primary, CheckpointKind.INCREMENTAL, 1, 1, List.of(Checkpoints.contents(arena, 2, 3 * PAGE)));
            try (RecordTailer all = primary.tailAfter(0); ReplicaWriter writer = replica.replicaWriter()) {
                List<RawRecord> records = drain(all);
                int secondHeader = records.indexOf(records.stream().filter(r -> r.head().seq() == 2).findFirst().orElseThrow());
                appendAll(writer, records.subList(0, secondHeader + 3));
                CheckpointMark torn = writer.tornHeader().orElseThrow();
                assertEquals(records.get(secondHeader).head().mark(), torn);

                try (RecordTailer resume = primary.tailAfter(1)) {
                    assertTrue(resume.resumes(torn.seq()));
                    assertEquals(List.of(primary.lastCommit().orElseThrow()), appendAll(writer, drain(resume)));
                }
                Checkpoints.assertReplica(primary, replica, 1);
                assertEquals(List.of(2L), replica.verify().abandoned().stream().map(VerifyReport.Uncommitted::seq).toList());
            }
        }
        try (Journal reopened = Journal.open(dir)) {
            assertEquals(List.of(1L, 2L), reopened.checkpoints().stream().map(CheckpointSummary::seq).toList());
            assertTrue(reopened.verify().clean());
        }
    }

    @Test
    void aHeaderRepeatingASeqIsStillDamagedUnlessItReopensTheTornCheckpoint() {
        try (Arena arena = Arena.ofConfined(); Journal primary = Journal.create(tmp.resolve("p"));
             Journal replica = Journal.create(tmp.resolve("r"))) {
            Checkpoints.write(primary, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, PAGE)));
            try (RecordTailer tailer = primary.tailAfter(0); ReplicaWriter writer = replica.replicaWriter()) {
                List<RawRecord> records = drain(tailer);
                appendAll(writer, records);
                // seq 1 again after its commit: a duplicate, not a re-send
                appendAll(writer, records);
            }
            VerifyReport report = replica.verify();
            assertFalse(report.clean());
            assertTrue(report.problems().getFirst().what().contains("seq 1 does not follow seq 1"), report.problems().toString());
            assertEquals(1, replica.checkpoints().size());
        }
    }

    @Test
    void aRecordOfAnEpochOlderThanTheJournalsOrItsFenceIsRefusedNamingBoth() {
        try (Arena arena = Arena.ofConfined(); Journal old = Journal.create(tmp.resolve("old"));
             Journal replica = Journal.create(tmp.resolve("r"))) {
            Checkpoints.write(old, CheckpointKind.FULL, -1, 2, List.of(Checkpoints.contents(arena, 1, PAGE)));
            replica.fence(3);
            try (RecordTailer tailer = old.tailAfter(0); ReplicaWriter writer = replica.replicaWriter()) {
                JournalException e = assertThrows(JournalException.class, () -> writer.append(tailer.next().bytes()));
                assertTrue(e.getMessage().contains("has epoch 2") && e.getMessage().contains("fenced below epoch 3"),
                        e.getMessage());
            }
            assertEquals(0, replica.verify().records(), "nothing appended");
            assertThrows(JournalException.class, () -> replica.begin(Images.header(1, 2, CheckpointKind.FULL, -1)));
        }
    }

    @Test
    void aCorruptRecordIsRefusedAndNotAppended() {
        try (Arena arena = Arena.ofConfined(); Journal primary = Journal.create(tmp.resolve("p"));
             Journal replica = Journal.create(tmp.resolve("r"))) {
            Checkpoints.write(primary, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, PAGE)));
            try (RecordTailer tailer = primary.tailAfter(0); ReplicaWriter writer = replica.replicaWriter()) {
                byte[] header = tailer.next().bytes().toArray(ValueLayout.JAVA_BYTE);
                header[header.length - 1] ^= 1;
                JournalException e = assertThrows(JournalException.class, () -> writer.append(header));
                assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
            }
            assertEquals(0, replica.verify().records());
        }
    }

    @Test
    void theChainBaseIsTheFullCheckpointTheNewestOneBuildsOn() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("p"))) {
            assertEquals(OptionalLong.empty(), journal.chainBase());
            MemorySegment page = Checkpoints.contents(arena, 1, PAGE);
            Checkpoints.write(journal, CheckpointKind.FULL, -1, 1, List.of(page));
            Checkpoints.write(journal, CheckpointKind.INCREMENTAL, 1, 1, List.of(page));
            Checkpoints.write(journal, CheckpointKind.FULL, -1, 1, List.of(page));
            Checkpoints.write(journal, CheckpointKind.INCREMENTAL, 3, 1, List.of(page));
            Checkpoints.write(journal, CheckpointKind.INCREMENTAL, 4, 1, List.of(page));
            assertEquals(OptionalLong.of(3), journal.chainBase());
            try (RecordTailer tailer = journal.tailFrom(3)) {
                RawRecord.Head head = tailer.peek();
                assertEquals(new RawRecord.Head(RawRecord.Kind.FULL_HEADER, 3, 1, head.crc()), head);
                assertEquals(head, tailer.next().head(), "peek does not move the tailer");
            }
            assertEquals(List.of(4L, 5L), journal.checkpointsAfter(3).stream().map(CheckpointSummary::seq).toList());
            assertEquals(Optional.of(5L), journal.lastCommit().map(CheckpointMark::seq));
        }
    }

    @Test
    void aJournalWrittenSinceOpeningTakesNoReplicaWriterAndAReplicaTakesNoBegin() {
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(tmp.resolve("p"));
             Journal replica = Journal.create(tmp.resolve("r"))) {
            Checkpoints.write(journal, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, PAGE)));
            assertThrows(IllegalStateException.class, journal::replicaWriter);
            try (ReplicaWriter ignored = replica.replicaWriter()) {
                assertThrows(IllegalStateException.class, () -> replica.begin(Images.full(1)));
            }
        }
    }
}
