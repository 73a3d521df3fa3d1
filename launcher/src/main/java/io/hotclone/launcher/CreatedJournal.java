package io.hotclone.launcher;

import io.hotclone.journal.Journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A command's journal, created if missing: a command that fails before the journal holds a
 * checkpoint leaves no directory it created itself behind.
 */
final class CreatedJournal {
    private CreatedJournal() {
    }

    /** Runs {@code work} on the journal in {@code dir} (see {@link Journal#create}); returns its result. */
    static <T> T use(Path dir, Function<Journal, T> work) {
        boolean existed = Files.exists(dir);
        boolean committed = false;
        try (Journal journal = Journal.create(dir)) {
            try {
                return work.apply(journal);
            } finally {
                committed = !journal.checkpoints().isEmpty();
            }
        } catch (RuntimeException e) {
            if (!existed && !committed) {
                remove(dir, e);
            }
            throw e;
        }
    }

    private static void remove(Path dir, RuntimeException failure) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            failure.addSuppressed(new UncheckedIOException("cannot remove journal directory " + dir
                    + ", created by this failed command", e));
        }
    }
}
