package io.hotclone.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.launcher.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The demo joins the hotclone command from its own module, and checks its options before it starts anything. */
class DemoOptionsTest {
    @TempDir
    Path dir;

    private int hotclone(StringWriter out, StringWriter err, String... args) {
        CommandLine command = Main.commandLine();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command.execute(args);
    }

    @Test
    void theDemoIsACommandOfHotcloneWhenItsModuleIsOnTheClassPath() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, hotclone(out, err, "--help"), err.toString());
        assertTrue(out.toString().contains("demo"), out.toString());
        assertEquals(0, hotclone(out, err, "help", "demo"), err.toString());
        assertTrue(out.toString().contains("Usage: hotclone demo"), out.toString());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "--lease|0ms|'--lease': '0ms' is not a duration",
            "--heap-mib|0|'--heap-mib': '0' is not a whole number",
            "--dirty-tracking|soft|expected one of [uffd, mprotect, none]"})
    void aBadValueIsAUsageErrorNamingTheOptionAndNothingIsCreated(String option, String value, String says) {
        StringWriter err = new StringWriter();
        int exit = hotclone(new StringWriter(), err, "demo", "--dir", dir.resolve("demo").toString(), option, value);
        assertEquals(2, exit, err.toString());
        assertTrue(err.toString().contains(says), err.toString());
        assertFalse(Files.exists(dir.resolve("demo")), "no demo directory: " + err);
    }
}
