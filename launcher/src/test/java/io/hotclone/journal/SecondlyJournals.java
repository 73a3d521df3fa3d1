package io.hotclone.journal;

import net.openhft.chronicle.queue.rollcycles.TestRollCycles;

import java.nio.file.Path;

/**
 * Makes an empty journal that rolls to a new queue file every second, for a launched hotclone to
 * write (a journal keeps the cycle it was made with): here, because only this package may choose
 * a journal's roll cycle.
 */
public final class SecondlyJournals {
    private SecondlyJournals() {
    }

    public static void make(Path dir) {
        Journal.create(dir, TestRollCycles.TEST_SECONDLY).close();
    }
}
