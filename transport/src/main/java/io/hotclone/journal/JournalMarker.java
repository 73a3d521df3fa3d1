package io.hotclone.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The file {@value #FILE} that tells a journal directory from any other: it names the format. */
final class JournalMarker {
    static final String FILE = "hotclone-journal";
    private static final String TEXT = "hotclone journal format " + JournalFormat.FORMAT_VERSION + "\n";

    private JournalMarker() {
    }

    /**
     * Makes {@code dir} ready to be written as a journal: checks the marker of the journal already
     * there, or marks an empty directory as a new journal.
     *
     * @throws JournalException if the directory holds something other than a journal this
     *                          hotclone writes, or cannot be written
     */
    static void forWriting(Path dir) {
        Path marker = dir.resolve(FILE);
        if (Files.exists(marker)) {
            check(dir);
            if (!Files.isWritable(dir) || !Files.isWritable(marker)) {
                throw notWritable(dir, "permission denied");
            }
        } else {
            if (!isEmpty(dir)) {
                throw new JournalException(dir + " is not empty and holds no hotclone journal (no " + FILE
                        + " file): give an empty or new directory, or the directory of an existing journal");
            }
            write(dir, marker);
        }
    }

    /**
     * Checks that {@code dir} is a journal this hotclone reads.
     *
     * @throws JournalException if there is no journal there, or one of another format
     */
    static void forReading(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new JournalException("no journal at " + dir + ": " + (Files.exists(dir) ? "it is not a directory"
                    : "it does not exist") + "; give the journal directory the checkpoints were written to");
        }
        if (!Files.exists(dir.resolve(FILE))) {
            throw new JournalException(dir + " is not a hotclone journal (it has no " + FILE
                    + " file): give the journal directory the checkpoints were written to");
        }
        check(dir);
    }

    /**
     * Writes the marker whole or not at all, so that a reader never meets it half written: its
     * text goes to a file of its own first, which is then linked in as the marker (a link, unlike
     * a rename, fails if another creator was first).
     */
    private static void write(Path dir, Path marker) {
        Path draft = dir.resolve(FILE + ".new");
        try {
            Files.writeString(draft, TEXT);
            Files.createLink(marker, draft);
        } catch (IOException e) {
            throw notWritable(dir, JournalException.describe(e));
        } finally {
            try {
                Files.deleteIfExists(draft);
            } catch (IOException e) {
                // a draft left behind is harmless: the marker decides
            }
        }
    }

    private static void check(Path dir) {
        String text;
        try {
            text = Files.readString(dir.resolve(FILE));
        } catch (IOException e) {
            throw new JournalException("cannot read " + dir.resolve(FILE) + " (" + JournalException.describe(e)
                    + "): check the permissions of the journal directory");
        }
        if (!text.equals(TEXT)) {
            throw new JournalException(dir + " holds a journal this hotclone cannot read (its " + FILE + " file says \""
                    + text.strip() + "\", this hotclone reads \"" + TEXT.strip() + "\"): use the hotclone that wrote it");
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.allMatch(JournalLock::isLockFile);
        } catch (IOException e) {
            throw new JournalException("cannot list journal directory " + dir + " (" + JournalException.describe(e)
                    + "): check its permissions");
        }
    }

    private static JournalException notWritable(Path dir, String why) {
        return new JournalException("journal directory " + dir + " is not writable (" + why
                + "): give a directory this user can write, or fix its permissions (chmod u+w " + dir + ")");
    }
}
