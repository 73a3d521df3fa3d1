package io.hotclone.journal;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The room a checkpoint's records have on the journal's disk. Chronicle writes its files through
 * memory mappings of sparse files, where a full disk is not an error but a SIGBUS, which can crash
 * the JVM (inside Unsafe) as well as fail the write: a record that would leave less than
 * {@link #KEEP_FREE} fails first, cleanly, and the checkpoint is tried again later. Used by the
 * checkpoint writer's thread only.
 */
final class DiskRoom {
    private static final long KEEP_FREE = 16L << 20;

    private final Path dir;
    /** Bytes that records may take before the disk's free space is asked again. */
    private long room;
    /** The journal's disk, found once (a look-up reads the mount table; its free space is one statvfs). */
    private FileStore disk;

    DiskRoom(Path dir) {
        this.dir = dir;
    }

    /** Forgets the room known: the disk's free space is asked afresh for each checkpoint, as others write there too. */
    void forget() {
        room = 0;
    }

    /**
     * Makes sure the disk has room for a record of {@code bytes} of checkpoint {@code seq} (and a
     * page of Chronicle's own around it) above {@link #KEEP_FREE}, asking it only once the room
     * known runs out.
     *
     * @throws JournalException naming the disk's free space, if it has not
     */
    void reserve(long bytes, long seq) {
        long need = bytes + 4096;
        if (room < need) {
            long free;
            try {
                if (disk == null) {
                    disk = Files.getFileStore(dir);
                }
                free = disk.getUsableSpace();
            } catch (IOException e) {
                throw new JournalException("cannot ask the free space of journal " + dir + " (" + JournalException.describe(e)
                        + "): check that the directory exists and is readable", e);
            }
            room = free - KEEP_FREE;
            if (room < need) {
                room = 0;
                throw new JournalException("the disk of journal " + dir + " has " + (free >> 20) + " MiB free, too"
                        + " little for checkpoint seq " + seq + " (it keeps " + (KEEP_FREE >> 20) + " MiB free):"
                        + " free some space on it, or give --journal a directory on a larger disk");
            }
        }
        room -= need;
    }
}
