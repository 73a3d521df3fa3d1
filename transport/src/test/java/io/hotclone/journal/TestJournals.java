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
}
