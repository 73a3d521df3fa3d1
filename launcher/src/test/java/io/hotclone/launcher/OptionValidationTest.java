package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Every option value is checked before a command does anything: a bad one is a usage error
 * (exit 2) that names the option and the form it takes, and leaves no journal directory and no
 * program behind.
 */
class OptionValidationTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String err) {}

    private static Run hotclone(List<String> args) {
        CommandLine command = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return new Run(command.execute(args.toArray(String[]::new)), err.toString());
    }

    /** The program would leave a mark if it ran: the file it creates. */
    private List<String> runWith(String... options) {
        List<String> args = new ArrayList<>(List.of("run", "--journal", dir.resolve("journal").toString()));
        args.addAll(List.of(options));
        args.addAll(List.of("--", "/bin/touch", dir.resolve("ran").toString()));
        return args;
    }

    @ParameterizedTest(name = "run {0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--checkpoint-interval|0|'0' is not a duration",
            "--checkpoint-interval|-5ms|'-5ms' is not a duration",
            "--checkpoint-interval|1ns|'1ns' is not a duration",
            "--checkpoint-interval|abc|'abc' is not a duration",
            "--checkpoint-interval|5|'5' is not a duration",
            "--retention|-1|'-1' is not a factor",
            "--retention|NaN|'NaN' is not a factor",
            "--lease|0s|'0s' is not a duration",
            "--ack|some|expected one of [all, one]",
            "--dirty-tracking|soft|expected one of [uffd, mprotect, none]",
            "--on-hotclone-exit|stay|'stay' is not kill or continue",
            "--listen|7100|7100 is not HOST:PORT",
            "--standby|host-without-port|is not HOST:PORT"})
    void aBadValueOfRunIsAUsageErrorNamingTheOptionAndNothingStarts(String option, String value, String says) {
        Run run = hotclone(runWith(option, value));
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("Invalid value for option '" + option + "'") && run.err().contains(says), run.err());
        assertNothingCreated(run);
    }

    @ParameterizedTest(name = "run {0}")
    @CsvSource(delimiter = '|', value = {
            "--on-hotclone-exit continue --zk 127.0.0.1:2181|cannot go with --zk",
            "--on-hotclone-exit continue --dirty-tracking mprotect|cannot go with --dirty-tracking mprotect",
            "--listen 127.0.0.1:7100|need a coordinator"})
    void optionsThatDoNotGoTogetherAreAUsageErrorAndNothingStarts(String options, String says) {
        Run run = hotclone(runWith(options.split(" ")));
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(says), run.err());
        assertNothingCreated(run);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "restore --journal J --seq -1|'--seq': '-1' is not a checkpoint seq",
            "restore --journal J --seq 0|'--seq': '0' is not a checkpoint seq",
            "journal show J --seq x|'--seq': 'x' is not a checkpoint seq",
            "checkpoint --journal J --pid -3|'--pid': '-3' is not a whole number of 1 or more",
            "standby --journal J --listen 127.0.0.1:7100 --checkpoint-interval 0|'--checkpoint-interval': '0'",
            "standby --journal J --listen 127.0.0.1:7100|a standby needs its coordinator",
            "coordinator --data J --port 70000|'--port': '70000' is not a TCP port",
            "coordinator --data J --bind no.such.host.invalid|'--bind': 'no.such.host.invalid' is not an address"})
    void aBadValueOfAnyCommandIsAUsageErrorNamingTheOption(String command, String says) {
        List<String> args = new ArrayList<>();
        for (String word : command.split(" ")) {
            args.add(word.equals("J") ? dir.resolve("journal").toString() : word);
        }
        Run run = hotclone(args);
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(says), run.err());
        assertNothingCreated(run);
    }

    @Test
    void durationsAreWholeMillisecondsSecondsOrMinutes() {
        Values.Period period = new Values.Period();
        assertEquals(Duration.ofMillis(100), period.convert("100ms"));
        assertEquals(Duration.ofSeconds(2), period.convert("2s"));
        assertEquals(Duration.ofMinutes(1), period.convert("1m"));
        assertEquals("100ms", Values.Period.text(Duration.ofMillis(100)));
        assertEquals("2s", Values.Period.text(Duration.ofSeconds(2)));
        assertEquals("1m", Values.Period.text(Duration.ofMinutes(1)));
    }

    @Test
    void aProgramThatCannotStartLeavesNoJournalDirectoryBehind() {
        Run run = hotclone(List.of("run", "--journal", dir.resolve("journal").toString(), "--",
                dir.resolve("no-such-program").toString()));
        assertEquals(1, run.exitCode(), run.err());
        assertTrue(run.err().contains("could not start " + dir.resolve("no-such-program")), run.err());
        assertFalse(Files.exists(dir.resolve("journal")), "the journal directory run created is removed: " + run.err());
    }

    private void assertNothingCreated(Run run) {
        assertFalse(Files.exists(dir.resolve("journal")), "no journal directory: " + run.err());
        assertFalse(Files.exists(dir.resolve("ran")), "the program did not run: " + run.err());
    }
}
