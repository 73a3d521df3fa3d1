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
 * @param abandoned     checkpoints left uncommitted before a later one began (a failed capture):
 *                      invisible, and harmless
 * @param tornTail      the uncommitted checkpoint the journal ends with, if any: what a crash
 *                      during a capture leaves; invisible, and not corruption
 */
public record VerifyReport(int checkpointsOk, long records, List<Problem> problems,
                           List<Uncommitted> abandoned, Optional<Uncommitted> tornTail) {

    public VerifyReport {
        problems = List.copyOf(problems);
        abandoned = List.copyOf(abandoned);
    }

    /** Whether no record is corrupt or out of place (uncommitted checkpoints are not problems). */
    public boolean clean() {
        return problems.isEmpty();
    }

    /**
     * One corrupt or misplaced record.
     *
     * @param seq        the checkpoint it belongs to (by its position in the journal)
     * @param index      its Chronicle Queue index
     * @param recordType its type ("thread", "pages" ...), or what its tag was when unknown
     * @param what       what is wrong with it
     */
    public record Problem(long seq, long index, String recordType, String what) {
        @Override
        public String toString() {
            return "seq " + seq + ", index " + Journal.formatIndex(index) + ", " + recordType + " record: " + what;
        }
    }

    /** The records of a checkpoint that has no commit: {@code records} of them from {@code firstIndex}. */
    public record Uncommitted(long seq, long firstIndex, long records) {
        @Override
        public String toString() {
            return "seq " + seq + " (uncommitted, " + records + " records from index "
                    + Journal.formatIndex(firstIndex) + ")";
        }
    }
}
