package io.hotclone.launcher;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.ProcessImage;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import io.hotclone.journal.RecordText;
import io.hotclone.journal.VerifyReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code hotclone journal ls|show|verify DIR}: reads a checkpoint journal offline, without the
 * program or the machine that wrote it. A directory that holds no journal raises the journal's
 * own exception, whose message the launcher prints.
 */
@Command(name = "journal", mixinStandardHelpOptions = true,
        subcommands = {JournalCommand.Ls.class, JournalCommand.Show.class, JournalCommand.Verify.class},
        description = {
                "Read a checkpoint journal offline: list its checkpoints, decode one, or check every record.",
                "",
                "A journal is a directory (a Chronicle Queue plus a hotclone-journal marker file). Each checkpoint "
                        + "is a header, each process with its threads, memory areas, fds and page runs, then a commit; "
                        + "a checkpoint without its commit (a capture cut short by a crash) is never restored."},
        footer = {"", "Examples:",
                "  hotclone journal ls /var/lib/hotclone/app",
                "  hotclone journal show /var/lib/hotclone/app --seq 12",
                "  hotclone journal verify /var/lib/hotclone/app && echo sound"})
public final class JournalCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name what to do: ls, show or verify (see --help)");
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, header = "List the committed checkpoints.",
            description = {"List the committed checkpoints, oldest first, one line each (two here):",
                    "  seq=N kind=full|incremental pages=P bytes=B freeze_us=F duration_us=D",
                    "  failed_before=K",
                    "freeze_us is how long the program was stopped, duration_us the whole capture. failed_before "
                            + "counts the checkpoints that failed since the committed one before it: above 0, the "
                            + "program ran without protection for a while before this one (the run's log says why); "
                            + "unknown for checkpoints written by a hotclone that did not count them."})
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "the journal directory")
        Path dir;

        @Option(names = "--json", description = "print a JSON array of objects instead, with base_seq, epoch and "
                + "captured_at_ms too (failed_before null when unknown)")
        boolean json;

        @Override
        public Integer call() {
            List<CheckpointSummary> checkpoints;
            try (Journal journal = Journal.inspect(dir)) {
                checkpoints = journal.checkpoints();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(checkpoints.isEmpty() ? "[]"
                        : checkpoints.stream().map(Ls::json).collect(Collectors.joining(",\n  ", "[\n  ", "\n]")));
            } else {
                checkpoints.forEach(c -> out.printf(
                        "seq=%d kind=%s pages=%d bytes=%d freeze_us=%d duration_us=%d failed_before=%s%n",
                        c.seq(), kind(c.kind()), c.pages(), c.pageBytes(), c.freezeMicros(), c.durationMicros(),
                        failedBefore(c, "unknown")));
            }
            out.flush();
            return 0;
        }

        private static String json(CheckpointSummary c) {
            return String.format("{\"seq\": %d, \"kind\": \"%s\", \"base_seq\": %d, \"epoch\": %d, \"pages\": %d, "
                            + "\"bytes\": %d, \"freeze_us\": %d, \"duration_us\": %d, \"captured_at_ms\": %d, "
                            + "\"failed_before\": %s}",
                    c.seq(), kind(c.kind()), c.baseSeq(), c.epoch(), c.pages(), c.pageBytes(), c.freezeMicros(),
                    c.durationMicros(), c.capturedAtMillis(), failedBefore(c, "null"));
        }

        /** The failures before {@code c}, or {@code unknown} when its commit did not count them. */
        private static String failedBefore(CheckpointSummary c, String unknown) {
            return c.failedBefore() == Commit.FAILED_BEFORE_UNKNOWN ? unknown : String.valueOf(c.failedBefore());
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, header = "Decode every record of one checkpoint.",
            description = {"Decode every record of one committed checkpoint (the newest unless --seq): header, "
                    + "then for each process (the program's first one first) its record, threads with their "
                    + "registers, memory areas, fds, zombies (children that ended, not waited for), System V IPC "
                    + "objects (the first process's), one line per page run; then the commit.",
                    "Addresses, masks and flags are in hex; every CRC is checked on the way."})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "the journal directory")
        Path dir;

        @Option(names = "--seq", paramLabel = "N", converter = Values.Seq.class, description = "the checkpoint to show (see `ls`); default: the newest")
        Long seq;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (Journal journal = Journal.inspect(dir)) {
                CheckpointImage image = seq == null ? journal.latest() : journal.read(seq);
                print(out, "header", image.header());
                for (ProcessImage p : image.processes()) {
                    print(out, "process", p.process());
                    p.threads().forEach(t -> print(out, "thread", t));
                    p.areas().forEach(a -> print(out, "area", a));
                    p.fds().forEach(f -> print(out, "fd", f));
                    p.zombies().forEach(z -> print(out, "zombie", z));
                    p.ipc().forEach(o -> print(out, "ipc", o));
                    journal.pages(image.header().seq(), p.vpid(), (address, contents) -> out.printf(
                            "%-8s 0x%016x-0x%016x %d pages%n", "pages", address, address + contents.byteSize(),
                            contents.byteSize() / image.header().pageSize()));
                }
                print(out, "commit", image.commit());
            }
            out.flush();
            return 0;
        }

        private static void print(PrintWriter out, String label, Object record) {
            String kind = label.equals("fd") || label.equals("ipc") ? record.getClass().getSimpleName() + " " : "";
            out.printf("%-8s %s%s%n", label, kind, RecordText.describe(record));
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            header = "Check every record of the journal; exit 1 if any is corrupt.",
            description = {"Read every record and check its CRC, its type and version, its place in its checkpoint, "
                    + "and every commit's counts, and every queue file: one cut short (even to 0 bytes) or missing "
                    + "(first, middle or last: hotclone-journal.cycles lists those that hold a commit) is a problem "
                    + "too. Prints each problem with its queue file and checkpoint seq, then any uncommitted "
                    + "checkpoint:",
                    "  torn tail: the journal ends in a checkpoint without commit (a crash during a capture: "
                            + "expected, not corruption)",
                    "  abandoned: a checkpoint without commit followed by later ones (a failed capture)",
                    "Neither is ever restored."},
            exitCodeListHeading = "Exit codes:%n",
            exitCodeList = {"0:every committed checkpoint is sound (a torn tail alone is fine)",
                    "1:corrupt, misplaced or lost records: a checkpoint that has one cannot be restored (the ones "
                            + "before it can: restore --seq N)"})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "the journal directory")
        Path dir;

        @Override
        public Integer call() {
            try (Journal journal = Journal.inspect(dir)) {
                return print(journal.verify(), spec.commandLine().getOut());
            }
        }

        /** Prints the report and returns the exit code. */
        static int print(VerifyReport report, PrintWriter out) {
            report.problems().forEach(p -> out.println("problem: " + p));
            report.losses().forEach(l -> out.println("problem: " + l));
            report.abandoned().forEach(u -> out.println("abandoned: " + u));
            report.tornTail().ifPresent(u -> out.println("torn tail: " + u));
            out.printf("%d committed checkpoints sound, %d records read, %d problems%n",
                    report.checkpointsOk(), report.records(), report.problems().size() + report.losses().size());
            out.flush();
            return report.clean() ? 0 : 1;
        }
    }

    private static String kind(CheckpointKind kind) {
        return kind.name().toLowerCase();
    }
}
