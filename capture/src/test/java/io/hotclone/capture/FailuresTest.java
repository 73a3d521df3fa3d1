package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailuresTest {
    private static final long MS = 1_000_000L;
    private static final JournalFailure DISK_FULL = new JournalFailure("disk full", null);

    @Test
    void triesAgainAfter100MsDoublingTo3200MsAndAtTheIntervalOnceOneCommits() {
        Failures failures = new Failures(60_000 * MS, 0);
        List<Long> waits = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            waits.add(failures.failed(new HotcloneException("no"), i * MS).retryNanos() / MS);
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 1600L, 3200L, 3200L, 3200L), waits);
        assertEquals(8, failures.inRow(), "the next commit records 8 failed before it");
        assertEquals(9 * MS, failures.committed(9 * MS), "it ran 9 ms without a committed checkpoint");
        assertEquals(0, failures.inRow());
        assertEquals(0, failures.retryNanos(), "the interval decides again");
        assertEquals(-1, failures.committed(10 * MS), "nothing failed since the last commit");
    }

    @Test
    void endsProtectionOnlyOnceTheJournalHasFailedForTheLimit() {
        Failures failures = new Failures(1_000 * MS, 0);
        assertFalse(failures.failed(DISK_FULL, 100 * MS).overLimit());
        assertFalse(failures.failed(new HotcloneException("it has 2 threads"), 1_500 * MS).overLimit(),
                "a failure of the program's own does not count towards the journal's limit");
        assertTrue(failures.failed(DISK_FULL, 1_100 * MS).overLimit());
        failures.committed(1_200 * MS);
        assertFalse(failures.failed(DISK_FULL, 2_000 * MS).overLimit(), "a commit starts the count anew");
    }

    @Test
    void remembersWhetherTheLastFailureWasTheProgramsShape() {
        Failures failures = new Failures(1_000 * MS, 0);
        failures.failed(new Uncapturable("it has 2 threads"), MS);
        assertTrue(failures.refused());
        failures.failed(DISK_FULL, 2 * MS);
        assertFalse(failures.refused());
    }
}
