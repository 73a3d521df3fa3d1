package io.hotclone.jmh;

import io.hotclone.process.launch.Spawn;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * hotset (testprograms/hotset.c) as a benchmark's program: this JVM's child, as a protected
 * program is hotclone's, its stdout in {@code hotset.out} of its directory.
 */
final class Hotset {
    private Hotset() {
    }

    /**
     * Starts hotset with {@code options} for an hour, in {@code dir}; returns its pid once every
     * page of its heap is touched.
     */
    static int start(Path dir, List<String> options) throws IOException {
        Path binary = TestPrograms.compile("hotset", dir);
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$OUT\"", binary.toString(),
                "--seconds", "3600"));
        argv.addAll(options);
        Path out = dir.resolve("hotset.out");
        Files.createFile(out); // there before the shell opens it, so reading it never races
        int pid = Spawn.spawn("/bin/sh", argv, List.of("OUT=" + out), Spawn.Group.OWN_GROUP);
        // The Program view is only read, never closed.
        Program.adopt(pid, out).awaitLine(Pattern.compile("ready pid=\\d+"), Duration.ofMinutes(2));
        return pid;
    }

    static void stop(int pid) {
        Spawn.kill(pid, 9);
        Spawn.waitFor(pid);
    }
}
