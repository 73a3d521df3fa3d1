package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.image.CheckpointKind;
import io.hotclone.journal.Journal;
import io.hotclone.journal.SecondlyJournals;
import io.hotclone.testkit.QueueDocs;
import io.hotclone.testkit.Seconds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which checkpoint `hotclone restore` takes without --seq: never a silent step back past a damaged or lost one. */
class RestoreChoiceTest {
    @TempDir
    Path tmp;

    /** Runs restore in this JVM: a refusal comes before any process is made. */
    private static Exception refusal(String... args) {
        Exception[] failure = {null};
        new CommandLine(new RestoreCommand()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            failure[0] = e;
            return 1;
        }).execute(args);
        return assertInstanceOf(HotcloneException.class, failure[0], "restore must refuse");
    }

    private static List<Path> queueFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".cq4")).sorted().toList();
        }
    }

    @Test
    void aDamagedNewestCheckpointIsRefusedNamingTheOneToRestoreInstead() throws IOException {
        Path dir = tmp.resolve("journal");
        try (Journal journal = Journal.create(dir)) {
            JournalCommandTest.checkpoint(journal, CheckpointKind.FULL, -1, 2, true);
            JournalCommandTest.checkpoint(journal, CheckpointKind.FULL, -1, 2, true);
        }
        Path file = queueFiles(dir).getFirst();
        QueueDocs.Doc commit = QueueDocs.records(file).getLast();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x5a}), commit.contents() + commit.length() / 2);
        }
        Exception e = refusal("--journal", dir.toString(), "--detach");
        assertTrue(e.getMessage().matches("journal " + dir + ": the newest checkpoint seq 2 is damaged \\(seq 2, index"
                + " 0x\\p{XDigit}+ in \\S+\\.cq4, commit record: CRC32C mismatch .*\\): restore --seq 1 or --latest-sound"),
                e.getMessage());
    }

    @Test
    void aLostLastQueueFileIsRefusedNamingIt() throws IOException {
        Path dir = tmp.resolve("journal");
        SecondlyJournals.make(dir);
        try (Journal journal = Journal.create(dir)) { // seq 1 in one second's queue file, seq 2 in the next's
            Seconds.awaitNext();
            JournalCommandTest.checkpoint(journal, CheckpointKind.FULL, -1, 2, true);
            Seconds.awaitNext();
            JournalCommandTest.checkpoint(journal, CheckpointKind.INCREMENTAL, 1, 1, true);
        }
        List<Path> files = queueFiles(dir);
        Path last = files.getLast();
        Files.delete(last);
        Exception e = refusal("--journal", dir.toString());
        assertTrue(e.getMessage().contains("records after checkpoint seq 1 are lost") && e.getMessage().contains(
                "queue file " + last.getFileName() + " is missing") && e.getMessage().endsWith(" or --latest-sound"),
                e.getMessage());
        assertEquals(2, files.size());
    }
}
