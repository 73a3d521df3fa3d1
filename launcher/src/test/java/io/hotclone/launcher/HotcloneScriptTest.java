package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code ./hotclone} script of this checkout, from another directory. Under
 * {@code mvn test} the launcher jar does not exist yet, so the first run also proves the script
 * builds it by itself.
 */
class HotcloneScriptTest {
    @TempDir
    Path elsewhere;

    private HotcloneCli.Run hotclone(String... args) throws Exception {
        return HotcloneCli.run(elsewhere, args);
    }

    @Test
    void helpWorksFromAnyDirectory() throws Exception {
        HotcloneCli.Run help = hotclone("--help");
        assertEquals(0, help.exitCode(), help.err());
        assertTrue(help.out().startsWith("Usage: hotclone"), help.out());
    }

    @Test
    void exitCodeIsTheCommandsOwn() throws Exception {
        HotcloneCli.Run unknown = hotclone("frobnicate");
        assertEquals(2, unknown.exitCode(), unknown.err());
        assertTrue(unknown.err().contains("hotclone: unknown command 'frobnicate'"), unknown.err());
    }

    @Test
    void demoShowsTheProgramSurvivingItsCrash() throws Exception {
        HotcloneCli.Run demo = hotclone("demo", "--dir", elsewhere.resolve("demo").toString());
        assertEquals(0, demo.exitCode(), demo.toString());
        assertTrue(demo.out().contains("PASS") && demo.out().contains("survived the loss of its machine"), demo.toString());
        assertTrue(demo.out().matches("(?s).*switched: pid \\d+ from checkpoint seq \\d+ in \\d+ ms.*"), demo.toString());
    }
}
