package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/** Watches a journal another process writes (a node's replica): there is nothing to block on, so it looks every 20 ms. */
public final class JournalWatch {
    private JournalWatch() {
    }

    /**
     * Waits until the newest committed checkpoint of {@code journal} is one {@code wanted}
     * accepts, and returns it. A journal being started again meanwhile (a standby whose history
     * differs from its primary's empties it) is looked at again; the failure, if the wait ends
     * first, names {@code what} was awaited and the last read that failed.
     */
    public static CheckpointSummary await(Path journal, Predicate<CheckpointSummary> wanted, String what, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        RuntimeException unreadable = null;
        while (true) {
            if (Files.exists(journal.resolve("hotclone-journal"))) {
                try (Journal j = Journal.inspect(journal)) {
                    List<CheckpointSummary> held = j.checkpoints();
                    if (!held.isEmpty() && wanted.test(held.getLast())) {
                        return held.getLast();
                    }
                } catch (RuntimeException e) {
                    unreadable = e;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new HotcloneException("journal " + journal + " did not get " + what + " within " + wait
                        + (unreadable == null ? "" : " (its last read failed: " + unreadable.getMessage() + ")"));
            }
            pause();
        }
    }

    /** Between two looks at what another process writes. */
    public static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted");
        }
    }
}
