package io.hotclone.journal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The journal's own list of the queue files that hold a commit, in the file {@value #FILE}: one
 * file name a line, added when the first commit lands in a file, rewritten when retention drops
 * files. A reader compares it with the directory: a listed file that is gone lost checkpoints
 * (the first, a middle or the last one), which the queue files alone cannot tell from a gap in
 * time or a file retention dropped. A journal written before the list began lists only the files
 * written since. Writers only; thread-safe.
 */
final class CycleList {
    static final String FILE = "hotclone-journal.cycles";

    private final Path file;
    private final Set<String> names;

    private CycleList(Path file, Set<String> names) {
        this.file = file;
        this.names = names;
    }

    /** The list of journal directory {@code dir}: empty if it has none (yet). */
    static CycleList read(Path dir) {
        Path file = dir.resolve(FILE);
        Set<String> names = new TreeSet<>();
        try {
            if (Files.exists(file)) {
                Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).forEach(names::add);
            }
        } catch (IOException e) {
            throw new JournalException("cannot read " + file + " (" + JournalException.describe(e)
                    + "): check the permissions of the journal directory");
        }
        return new CycleList(file, names);
    }

    synchronized Set<String> names() {
        return Set.copyOf(names);
    }

    /** Adds queue file {@code name}, which now holds a commit, if it is not listed yet. */
    synchronized void add(String name) {
        if (names.add(name)) {
            try {
                // One short append: it lands whole or, in a crash, not at all.
                Files.writeString(file, name + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                names.remove(name);
                throw new JournalException("cannot write " + file + " (" + JournalException.describe(e)
                        + "): check that the journal directory is writable");
            }
        }
    }

    /** Forgets the files {@code dropped} accepts, before they are deleted: a crash in between leaves them unlisted. */
    synchronized void remove(Predicate<String> dropped) {
        names.removeIf(dropped);
        Path draft = file.resolveSibling(FILE + ".new");
        try {
            Files.write(draft, names);
            Files.move(draft, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new JournalException("cannot rewrite " + file + " (" + JournalException.describe(e)
                    + "): check that the journal directory is writable");
        }
    }
}
