package io.hotclone.journal;

import io.hotclone.journal.JournalScan.Entry;
import net.openhft.chronicle.queue.RollCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The queue files of a journal as its readers and retention see them: read by {@link CycleFiles},
 * which never touches a byte a file does not have, so that a file cut short, emptied or deleted
 * is a loss a scan reports (with {@link CycleList} telling a deleted file from a gap in time),
 * not a fault. Thread-safe.
 */
final class JournalFiles {
    private static final Logger LOG = LoggerFactory.getLogger(JournalFiles.class);

    private final Path dir;
    private final CycleFiles files;
    private final CycleList cycleList;

    JournalFiles(Path dir, RollCycle rollCycle) {
        this.dir = dir;
        this.files = new CycleFiles(dir, rollCycle);
        this.cycleList = CycleList.read(dir);
    }

    /** The roll cycle of queue index {@code index}. */
    int cycleOf(long index) {
        return files.rollCycle().toCycle(index);
    }

    /** A scan of every record of the journal at {@code depth}, done, less the checkpoints its dropped head broke. */
    JournalScan scan(JournalScan.Depth depth) {
        JournalScan scan = new JournalScan(depth, files);
        visitAll(scan);
        scan.forgetDroppedHead();
        return scan;
    }

    /**
     * Hands every record of the journal to {@code scan}, file by file, and tells it of every file
     * {@link CycleList} lists that is missing, and of every file cut short, where the loss lies.
     */
    private void visitAll(JournalScan scan) {
        TreeMap<Integer, Path> present = files.list();
        TreeSet<Integer> cycles = new TreeSet<>(present.keySet());
        cycleList.names().forEach(name -> cycles.add(files.cycleOf(name)));
        for (int cycle : cycles) {
            String name = files.nameOf(cycle);
            if (!present.containsKey(cycle)) {
                scan.lost(name, "is missing, though " + CycleList.FILE + " lists it as holding checkpoints (deleted?)");
                continue;
            }
            CycleFiles.Stop stop = files.read(cycle, 0, -1, scan::accept);
            if (stop.end() == CycleFiles.End.TRUNCATED) {
                scan.lost(name, stop.size() == 0 ? "is empty (0 bytes): it was truncated"
                        : "ends at byte " + stop.size() + (stop.at() + Integer.BYTES < stop.size()
                        ? ", inside the record at byte " + stop.at() : ", where a record should begin")
                        + ": it was truncated");
            }
        }
    }

    /** Hands the records of one committed checkpoint, header to commit, to {@code visitor}. */
    void visit(Entry entry, Consumer<Envelope.Stored> visitor) {
        RollCycle rollCycle = files.rollCycle();
        int cycle = rollCycle.toCycle(entry.firstIndex());
        int lastCycle = rollCycle.toCycle(entry.lastIndex());
        long from = rollCycle.toSequenceNumber(entry.firstIndex());
        while (true) {
            long until = cycle == lastCycle ? rollCycle.toSequenceNumber(entry.lastIndex()) : -1;
            CycleFiles.Stop stop = files.read(cycle, from, until, visitor);
            if (stop == null) {
                return;
            }
            Integer next = stop.end() == CycleFiles.End.TRUNCATED ? null : files.list().higherKey(cycle);
            if (next == null || next > lastCycle) {
                throw new JournalException("journal " + dir + " ends inside checkpoint seq " + entry.header().seq()
                        + ", before index " + JournalFormat.formatIndex(entry.lastIndex()) + ": its queue file "
                        + files.nameOf(cycle) + " was cut short or the next one deleted (`hotclone journal verify "
                        + dir + "` says what was lost); restore an earlier checkpoint");
            }
            cycle = next;
            from = 0;
        }
    }

    /** Lists the queue files of a new commit's checkpoint, so that a reader notices them missing. */
    void list(Entry entry) {
        try {
            cycleList.add(files.nameOf(cycleOf(entry.firstIndex())));
            cycleList.add(files.nameOf(cycleOf(entry.lastIndex())));
        } catch (JournalException e) {
            // The checkpoint is committed all the same; only the loss of its file would go unnoticed.
            LOG.warn("{}: a reader will not notice if the queue file of checkpoint seq {} goes missing",
                    e.getMessage(), entry.header().seq());
        }
    }

    /**
     * Deletes the queue files before roll cycle {@code keepFrom}, which holds the header of full
     * checkpoint {@code fullSeq}, unlisting them first.
     *
     * @return the number of files deleted
     */
    int dropBefore(int keepFrom, long fullSeq) {
        int dropped = 0;
        try {
            cycleList.remove(name -> files.cycleOf(name) < keepFrom);
            files.forgetBefore(keepFrom);
            for (Path file : files.list().headMap(keepFrom).values()) {
                Files.delete(file);
                dropped++;
            }
        } catch (IOException e) {
            throw new JournalException("cannot drop the queue files of journal " + dir + " before checkpoint seq "
                    + fullSeq + " (" + JournalException.describe(e) + "): check that the directory is writable");
        }
        return dropped;
    }
}
