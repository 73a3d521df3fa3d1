package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.bindings.HotcloneException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Runs the hotclone command in-process, as {@code Main.main} would, and reads what it printed. */
class MainTest {
    private record Run(int exitCode, String out, String err) {}

    @Command(name = "fail", description = "Fails the way a command of hotclone fails.")
    static final class FailingCommand implements Runnable {
        @Override
        public void run() {
            throw new HotcloneException("cannot read /proc/42/maps: no such process; check the pid");
        }
    }

    private static Run run(CommandLine command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        int exitCode = command.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    private static Run hotclone(String... args) {
        return run(Main.commandLine(), args);
    }

    private static Run hotcloneWithFailingCommand(String... args) {
        return run(Main.commandLine().addSubcommand(new FailingCommand()), args);
    }

    @Test
    void helpExplainsHotcloneListsItsCommandsAndGivesAnExample() {
        Run help = hotclone("--help");
        assertAll(
                () -> assertEquals(0, help.exitCode(), help.err()),
                () -> assertTrue(help.out().startsWith("Usage: hotclone"), help.out()),
                () -> assertTrue(help.out().contains("when the machine under it dies"), help.out()),
                () -> assertTrue(help.out().matches("(?s).*Commands:\\R\\s+check\\s+\\S.*"), help.out()),
                () -> assertTrue(help.out().contains("Examples:\n  hotclone check"), help.out()));
    }

    @Test
    void versionNamesTheBuiltVersionAndTheJvm() {
        Run version = hotclone("--version");
        assertAll(
                () -> assertEquals(0, version.exitCode(), version.err()),
                () -> assertTrue(
                        version.out().startsWith("hotclone " + System.getProperty("hotclone.version") + "\n"),
                        version.out()),
                () -> assertTrue(version.out().contains("Java " + Runtime.version()), version.out()));
    }

    @Test
    void unknownCommandIsAUsageErrorThatNamesIt() {
        Run unknown = hotclone("frobnicate");
        assertAll(
                () -> assertEquals(2, unknown.exitCode()),
                () -> assertTrue(unknown.err().startsWith("hotclone: unknown command 'frobnicate'"), unknown.err()),
                () -> assertTrue(unknown.err().contains("Run 'hotclone --help'"), unknown.err()),
                () -> assertEquals("", unknown.out()));
    }

    @Test
    void noCommandPrintsTheUsageAsAUsageError() {
        Run bare = hotclone();
        assertEquals(2, bare.exitCode());
        assertTrue(bare.err().startsWith("Usage: hotclone"), bare.err());
    }

    @Test
    void failurePrintsItsMessageAloneAndExits1() {
        Run failed = hotcloneWithFailingCommand("fail");
        assertEquals(1, failed.exitCode());
        assertEquals("hotclone: cannot read /proc/42/maps: no such process; check the pid\n", failed.err());
    }

    @Test
    void debugOptionAddsTheStackTraceBeforeOrAfterTheCommand() {
        for (String[] args : new String[][] {{"--debug", "fail"}, {"fail", "--debug"}}) {
            Run failed = hotcloneWithFailingCommand(args);
            assertEquals(1, failed.exitCode());
            assertTrue(failed.err().startsWith("hotclone: cannot read /proc/42/maps"), failed.err());
            assertTrue(failed.err().contains("at io.hotclone.launcher.MainTest$FailingCommand.run"), failed.err());
        }
    }

    @Test
    void checkPassesOnThisMachineAndReportsDirtyTrackingFeatures() {
        Run check = hotclone("check");
        assertAll(
                () -> assertEquals(0, check.exitCode(), check.out() + check.err()),
                () -> assertTrue(check.out().lines().anyMatch(line -> line.startsWith("ok   userfaultfd")), check.out()),
                () -> assertTrue(check.out().lines().anyMatch(line -> line.startsWith("ok   PAGEMAP_SCAN")), check.out()),
                () -> assertEquals("", check.err()));
    }

    @Test
    void checkJsonPrintsOneObjectWithTheSameFindings() {
        Run check = hotclone("check", "--json");
        String json = check.out().strip();
        assertAll(
                () -> assertEquals(0, check.exitCode(), check.err()),
                () -> assertEquals(1, check.out().lines().count(), check.out()),
                () -> assertTrue(json.startsWith("{") && json.endsWith("}"), json),
                () -> assertTrue(json.contains("\"userfaultfd\":true"), json),
                () -> assertTrue(json.contains("\"pagemapScan\":true"), json));
    }

    @Test
    void unexpectedExceptionIsReportedWithItsTrace() {
        @Command(name = "bug")
        final class Bug implements Runnable {
            @Override
            public void run() {
                throw new IllegalStateException("a bug");
            }
        }
        Run failed = run(Main.commandLine().addSubcommand(new Bug()), "bug");
        assertEquals(1, failed.exitCode());
        assertTrue(failed.err().startsWith("hotclone: unexpected java.lang.IllegalStateException: a bug"), failed.err());
        assertFalse(failed.err().lines().skip(1).findFirst().orElse("").isBlank(), "the trace follows: " + failed.err());
    }
}
