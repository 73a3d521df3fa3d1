package io.hotclone.process.launch;

import io.hotclone.process.ptrace.Tracee;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpawnTest {
    @Test
    void aChildsEndReapedByItsTracerIsStillItsParentsToWaitFor() {
        int pid = Spawn.spawn("/bin/sleep", List.of("sleep", "60"), List.of(), Spawn.Group.OWN_GROUP);
        try (Tracee tracee = Tracee.seize(pid, 0)) {
            Spawn.kill(pid, SIGKILL);
            assertTrue(tracee.await().gone(), "the tracer's wait collects the killed child's end");
        }
        assertEquals(128 + SIGKILL, Spawn.waitFor(pid), "the parent's wait reports the end the tracer collected");
    }
}
