package io.hotclone.journal;

import net.openhft.chronicle.queue.rollcycles.TestRollCycles;

import java.nio.file.Path;

/** Journals with several queue files in seconds, for the tests of this package and others. */
public final class TestJournals {
    private TestJournals() {
    }

    /** {@link Journal#create}, a new journal rolling to a new queue file every second. */
    public static Journal secondly(Path dir) {
        return Journal.create(dir, TestRollCycles.TEST_SECONDLY);
    }

    /** Waits for the wall clock to enter the next second: the next queue file of a {@link #secondly} journal. */
    public static void nextCycle() {
        long second = System.currentTimeMillis() / 1000;
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.currentTimeMillis() / 1000 == second) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the clock did not reach the next second within 3 s");
            }
            Thread.onSpinWait();
        }
    }
}
