package io.hotclone.journal;

import java.util.List;
import java.util.Optional;

/**
 * What {@link Journal#verify()} found after checking every record of the journal: its CRC, its
 * type and version, its place in its checkpoint, and every commit's counts.
 *
 * @param checkpointsOk committed checkpoints without any problem
 * @param records       records read
 * @param problems      corruption or inconsistency: a checkpoint with a problem is not restorable
 * @param losses        queue files missing or truncated: the records they held are gone
 * @param abandoned     checkpoints left uncommitted before a later one began (a failed capture):
 *                      invisible, and harmless
 * @param tornTail      the uncommitted checkpoint the journal ends with, if any: what a crash
 *                      during a capture leaves; invisible, and not corruption
 */
public record VerifyReport(int checkpointsOk, long records, List<Problem> problems, List<Loss> losses,
                           List<Uncommitted> abandoned, Optional<Uncommitted> tornTail) {

    public VerifyReport {
        problems = List.copyOf(problems);
        losses = List.copyOf(losses);
        abandoned = List.copyOf(abandoned);
    }

    /** Whether no record is corrupt, out of place or lost (uncommitted checkpoints are not problems). */
    public boolean clean() {
        return problems.isEmpty() && losses.isEmpty();
    }

    /**
     * One corrupt or misplaced record.
     *
     * @param seq        the checkpoint it belongs to (by its position in the journal)
     * @param index      its Chronicle Queue index
     * @param file       the name of the queue file it is in
     * @param recordType its type ("thread", "pages" ...), or what its tag was when unknown
     * @param what       what is wrong with it
     */
    public record Problem(long seq, long index, String file, String recordType, String what) {
        @Override
        public String toString() {
            return "seq " + seq + ", index " + JournalFormat.formatIndex(index) + " in " + file + ", " + recordType
                    + " record: " + what;
        }
    }

    /**
     * Records lost with a queue file that is missing or was cut short.
     *
     * @param file     the queue file's name
     * @param afterSeq every checkpoint up to this seq lies before the loss (0: none)
     * @param what     what happened to the file, as a clause ("is missing ...")
     */
    public record Loss(String file, long afterSeq, String what) {
        @Override
        public String toString() {
            return "queue file " + file + " " + what + "; " + (afterSeq > 0 ? "the records after checkpoint seq "
                    + afterSeq + " in it are lost" : "the records in it are lost");
        }
    }

    /** The records of a checkpoint that has no commit: {@code records} of them from {@code firstIndex}. */
    public record Uncommitted(long seq, long firstIndex, long records) {
        @Override
        public String toString() {
            return "seq " + seq + " (uncommitted, " + records + " records from index "
                    + JournalFormat.formatIndex(firstIndex) + ")";
        }
    }
}
