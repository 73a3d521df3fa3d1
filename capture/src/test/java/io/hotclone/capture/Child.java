package io.hotclone.capture;

import io.hotclone.process.launch.Spawn;
import io.hotclone.testkit.Program;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A test program started as this JVM's own child (as `hotclone run` starts one), stdout in a file. */
record Child(int pid, Program program) implements AutoCloseable {
    static Child start(Path dir, String... command) {
        Path out = dir.resolve(Path.of(command[0]).getFileName() + ".out");
        try {
            Files.createFile(out); // there before the shell opens it: a reader may look at once
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>&1"));
        argv.addAll(List.of(command));
        int pid = Spawn.spawn("/bin/sh", argv, List.of("OUT=" + out, "PATH=/usr/bin:/bin"), Spawn.Group.OWN_GROUP);
        return new Child(pid, Program.adopt(pid, out));
    }

    @Override
    public void close() {
        Spawn.kill(pid, Program.SIGKILL);
        Spawn.waitFor(pid);
    }
}
