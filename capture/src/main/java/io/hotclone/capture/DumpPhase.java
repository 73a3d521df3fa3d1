package io.hotclone.capture;

/**
 * The phases of one checkpoint, in order. A failure in any phase leads to {@link #ABORT_DUMP}.
 */
public enum DumpPhase {
    /**
     * Entered with the program running and not traced. Checks what can be refused without
     * stopping it (it exists, it is not hotclone, it has one thread and no children), then
     * seizes it. Nothing is written yet.
     */
    PRE_DUMP,
    /**
     * Entered when every thread is in a ptrace interrupt stop: the barrier. Reads every
     * resource; refusing an unsupported one here still leaves no trace in the journal.
     * Then writes header, process, threads, areas, fds and pages. Order matters: everything
     * that could refuse the program is read before the first record is written.
     */
    DUMP,
    /**
     * Entered when every record but the commit is in the journal. Writes the commit record,
     * the only thing that makes the checkpoint visible, then lets the program run (or kills
     * it, when asked to).
     */
    POST_DUMP,
    /**
     * Entered from any phase on failure: registers and signal mask are put back, the program
     * is let go untouched, and the checkpoint, which has no commit record, stays invisible.
     */
    ABORT_DUMP
}
