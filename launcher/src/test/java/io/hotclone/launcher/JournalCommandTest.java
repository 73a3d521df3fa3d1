package io.hotclone.launcher;

import io.hotclone.image.AreaKind;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.MmState;
import io.hotclone.image.ProcessState;
import io.hotclone.image.SysvSem;
import io.hotclone.image.ThreadState;
import io.hotclone.image.ZombieState;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalFormat;
import io.hotclone.journal.JournalException;
import io.hotclone.journal.VerifyReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `hotclone journal ls|show|verify` on real journals: what they print and how they exit. */
class JournalCommandTest {
    private static final int PAGE = 4096;
    private static final long HEAP = 0x5555_5555_0000L;

    @TempDir
    Path tmp;

    private record Run(int exitCode, String out, String err, Exception failure) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Exception[] failure = {null};
        int code = new CommandLine(new JournalCommand())
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    failure[0] = e;
                    return 3;
                })
                .execute(args);
        return new Run(code, out.toString(), err.toString(), failure[0]);
    }

    /** Checkpoint seq N: one thread, one area of {@code pages} pages, /dev/null on fd 0, N - 1 failed checkpoints before it. */
    static void checkpoint(Journal journal, CheckpointKind kind, long baseSeq, int pages, boolean commit) {
        long seq = journal.nextSeq();
        try (Arena arena = Arena.ofConfined();
             CheckpointWriter w = journal.begin(new ImageHeader(JournalFormat.FORMAT_VERSION, seq, 1, kind, baseSeq,
                     "6.18.0", "x86_64", PAGE, 0x7, 1024, 1_760_000_000_000L))) {
            section(w, arena, 100, 0, pages, (byte) seq);
            w.fd(new DeviceFd(0, 0, false, "/dev/null", 0x103));
            if (commit) {
                w.commit(new Commit(seq, 1, pages, (long) pages * PAGE, 1, 150 + seq, 2000 + seq, (int) seq - 1));
            }
        }
    }

    /**
     * Writes the record of process {@code pid} (its parent {@code ppid}), its thread and its heap of
     * {@code pages} pages filled with {@code fill}.
     */
    private static void section(CheckpointWriter w, Arena arena, int pid, int ppid, int pages, byte fill) {
        w.process(new ProcessState(pid, false, "/bin/app", null, new MmState(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                new byte[16], "/", "/", 022, 0, List.of(), List.of(), List.of(), true, null, pid, ppid, pid, 0, 0, 0));
        byte[] regs = new byte[27 * 8];
        regs[16 * 8] = 0x42; // rip
        w.thread(new ThreadState(pid, regs, new byte[1024], 0, List.of(), null, null, pid, "prog", 0, null));
        w.area(new MemoryArea(HEAP, HEAP + (long) pages * PAGE, 3, false, AreaKind.HEAP, "[heap]", 0, null, 1));
        MemorySegment contents = arena.allocate((long) pages * PAGE);
        contents.fill(fill);
        w.pages(HEAP, contents);
    }

    /**
     * A program of two processes, its first one (pid 1) holding a System V semaphore set, its
     * child (pid 2) a zombie: show prints each process's records and pages, the first process
     * first, though its section comes last in the journal.
     */
    @Test
    void showDecodesEveryProcessWithItsZombiesAndIpcObjects() {
        Path dir = tmp.resolve("tree");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir);
             CheckpointWriter w = journal.begin(new ImageHeader(JournalFormat.FORMAT_VERSION, 1, 1, CheckpointKind.FULL,
                     -1, "6.18.0", "x86_64", PAGE, 0x7, 1024, 1_760_000_000_000L))) {
            section(w, arena, 2, 1, 1, (byte) 2);
            w.zombie(new ZombieState(0, 3, 3, 1, 7 << 8));
            section(w, arena, 1, 0, 2, (byte) 1);
            w.ipc(new SysvSem(0, 0x48430002, 0, 0, 0600, List.of(1, 2)));
            w.commit(new Commit(1, 2, 3, 3L * PAGE, 0, 150, 2000, 0));
        }
        Run r = run("show", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> labels = r.out().lines().filter(l -> !l.startsWith(" ")).map(l -> l.split(" ")[0]).toList();
        assertEquals(List.of("header", "process", "thread", "area", "ipc", "pages", "process", "thread", "area", "zombie",
                "pages", "commit"), labels);
        assertTrue(r.out().contains("ipc      SysvSem id=0 key=0x48430002 uid=0 gid=0 mode=0600 values=[1, 2]\n"), r.out());
        assertTrue(r.out().contains("zombie   pid=0 vpid=3 vpgid=3 vsid=1 waitStatus=1792\n"), r.out());
        assertTrue(r.out().contains("pages    0x0000555555550000-0x0000555555552000 2 pages\n"), r.out());
    }

    private Path journalWithTwoCheckpoints() {
        Path dir = tmp.resolve("journal");
        try (Journal journal = Journal.create(dir)) {
            checkpoint(journal, CheckpointKind.FULL, -1, 3, true);
            checkpoint(journal, CheckpointKind.INCREMENTAL, 1, 1, true);
        }
        return dir;
    }

    @Test
    void lsPrintsOneLinePerCommittedCheckpoint() {
        Run r = run("ls", journalWithTwoCheckpoints().toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("""
                seq=1 kind=full pages=3 bytes=12288 freeze_us=151 duration_us=2001 failed_before=0
                seq=2 kind=incremental pages=1 bytes=4096 freeze_us=152 duration_us=2002 failed_before=1
                """, r.out());
    }

    @Test
    void lsJsonPrintsAnArray() {
        Run r = run("ls", "--json", journalWithTwoCheckpoints().toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("""
                [
                  {"seq": 1, "kind": "full", "base_seq": -1, "epoch": 1, "pages": 3, "bytes": 12288, "freeze_us": 151, "duration_us": 2001, "captured_at_ms": 1760000000000, "failed_before": 0},
                  {"seq": 2, "kind": "incremental", "base_seq": 1, "epoch": 1, "pages": 1, "bytes": 4096, "freeze_us": 152, "duration_us": 2002, "captured_at_ms": 1760000000000, "failed_before": 1}
                ]
                """, r.out());
    }

    @Test
    void lsJsonOfAnEmptyJournalIsAnEmptyArray() {
        Journal.create(tmp.resolve("empty")).close();
        assertEquals("[]\n", run("ls", "--json", tmp.resolve("empty").toString()).out());
    }

    @Test
    void showDecodesEveryRecordOfTheChosenCheckpoint() {
        Run r = run("show", journalWithTwoCheckpoints().toString(), "--seq", "1");
        assertEquals(0, r.exitCode(), r.err());
        List<String> labels = r.out().lines().filter(l -> !l.startsWith(" ")).map(l -> l.split(" ")[0]).toList();
        assertEquals(List.of("header", "process", "thread", "area", "fd", "pages", "commit"), labels);
        assertTrue(r.out().contains("header   formatVersion=1 seq=1 epoch=1 kind=FULL baseSeq=-1 "), r.out());
        assertTrue(r.out().contains("rip      0x0000000000000042"), r.out());
        assertTrue(r.out().contains("area     start=0x555555550000 end=0x555555553000 prot=rw- "), r.out());
        assertTrue(r.out().contains("fd       DeviceFd fd=0 "), r.out());
        assertTrue(r.out().contains("pages    0x0000555555550000-0x0000555555553000 3 pages"), r.out());
        assertTrue(r.out().contains("commit   seq=1 areas=1 pages=3 ") && r.out().contains(" failedBefore=0\n"), r.out());
    }

    @Test
    void showWithoutSeqShowsTheNewest() {
        Run r = run("show", journalWithTwoCheckpoints().toString());
        assertTrue(r.out().startsWith("header   formatVersion=1 seq=2 "), r.out());
    }

    @Test
    void verifyOfASoundJournalExitsZero() {
        Run r = run("verify", journalWithTwoCheckpoints().toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("2 committed checkpoints sound, 14 records read, 0 problems\n", r.out());
    }

    @Test
    void verifyNamesATornTailAndStillExitsZero() {
        Path dir = tmp.resolve("journal");
        try (Journal journal = Journal.create(dir)) {
            checkpoint(journal, CheckpointKind.FULL, -1, 2, true);
            checkpoint(journal, CheckpointKind.FULL, -1, 2, false);
        }
        Run r = run("verify", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().matches("torn tail: seq 2 \\(uncommitted, 6 records from index 0x[0-9a-f]+\\)\n"
                + "1 committed checkpoints sound, 13 records read, 0 problems\n"), r.out());
    }

    @Test
    void verifyPrintsEachProblemAndExitsOne() {
        VerifyReport report = new VerifyReport(1, 40, List.of(new VerifyReport.Problem(3, 0x5131_0000_0007L,
                "20261202-1335V.cq4", "pages", "CRC32C mismatch (stored 0x1, computed 0x2)")),
                List.of(new VerifyReport.Loss("20261202-1340V.cq4", 3, "ends at byte 4096, inside the record at byte"
                        + " 4000: it was truncated")),
                List.of(), Optional.of(new VerifyReport.Uncommitted(4, 0x5131_0000_0010L, 5)));
        StringWriter out = new StringWriter();
        assertEquals(1, JournalCommand.Verify.print(report, new PrintWriter(out)));
        assertEquals("""
                problem: seq 3, index 0x513100000007 in 20261202-1335V.cq4, pages record: CRC32C mismatch \
                (stored 0x1, computed 0x2)
                problem: queue file 20261202-1340V.cq4 ends at byte 4096, inside the record at byte 4000: it was \
                truncated; the records after checkpoint seq 3 in it are lost
                torn tail: seq 4 (uncommitted, 5 records from index 0x513100000010)
                1 committed checkpoints sound, 40 records read, 2 problems
                """, out.toString());
    }

    @Test
    void aDirectoryWithoutAJournalFailsWithTheJournalsMessage() {
        Run r = run("ls", tmp.resolve("nothing").toString());
        assertInstanceOf(JournalException.class, r.failure());
        assertTrue(r.failure().getMessage().startsWith("no journal at " + tmp.resolve("nothing")), r.failure().getMessage());
    }

    @Test
    void noSubcommandIsAUsageError() {
        Run r = run();
        assertEquals(CommandLine.ExitCode.USAGE, r.exitCode());
        assertTrue(r.err().contains("name what to do: ls, show or verify"), r.err());
    }

    @Test
    void helpTeachesTheSubcommands() {
        Run r = run("--help");
        assertEquals(0, r.exitCode());
        for (String expected : List.of("ls", "show", "verify", "Examples:", "never restored")) {
            assertTrue(r.out().contains(expected), expected + " in\n" + r.out());
        }
    }
}
