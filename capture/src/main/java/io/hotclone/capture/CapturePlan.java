package io.hotclone.capture;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * How one checkpoint's pages are captured ({@link PageCapture}), decided once at its barrier:
 * copied into the stage under the freeze when it has room for them already and copying them
 * costs less than a fork ({@link Chain#copyCheaperThanFork}): a fork beats copying into fresh
 * memory (~13 us a page for its first touch, on top of the copy), and is the only way out of
 * the freeze for a full checkpoint; else forked when the program may be; else staged when few
 * enough; else streamed.
 *
 * @param how        the strategy
 * @param stageShort page bytes the stage lacked room for, to make room for after the freeze (0: none)
 * @param why        the reason, for the log
 */
record CapturePlan(How how, long stageShort, String why) {
    /** The strategies: each is a {@link PageCapture}. */
    enum How {
        /** {@link StreamedCapture}. */
        STREAMED,
        /** {@link StagedCapture}. */
        STAGED,
        /** {@link ForkCapture}. */
        FORKED
    }

    /**
     * Decides from the facts known at the barrier; the suppliers read /proc, and are asked only
     * when the decision needs them.
     *
     * @param incremental   whether the checkpoint carries only the pages written since the last
     * @param bound         the most page bytes it can carry (any when full)
     * @param stageable     whether that is few enough to be held in memory
     * @param residentBytes the program's resident memory
     * @param stageHolds    whether the stage holds {@code bound} without allocating
     * @param forkable      whether the pages may be read from a fork of the program
     */
    /**
     * The plan for a process of the program that is not its first: its pages are all read
     * under the freeze, so that the journal holds them before the sections after its own.
     */
    static CapturePlan streamed() {
        return new CapturePlan(How.STREAMED, 0, "a child process's pages are read while the program is frozen");
    }

    static CapturePlan decide(boolean incremental, long bound, boolean stageable, LongSupplier residentBytes,
                              boolean stageHolds, BooleanSupplier forkable) {
        boolean cheaper = stageable && Chain.copyCheaperThanFork(bound, residentBytes.getAsLong());
        if (cheaper && stageHolds) {
            return new CapturePlan(How.STAGED, 0, "copying its pages under the freeze costs less than a fork,"
                    + " and the stage holds them");
        }
        if (forkable.getAsBoolean()) {
            return new CapturePlan(How.FORKED, cheaper ? bound : 0, cheaper
                    ? "copying its pages costs less than a fork, but the stage lacks room (made after the freeze)"
                    : !incremental ? "a full checkpoint: a fork costs less than reading every page under the freeze"
                    : !stageable ? "more pages than the stage takes: a fork costs less than reading them under the freeze"
                    : "a fork costs less than copying its pages under the freeze");
        }
        if (stageable) {
            return new CapturePlan(How.STAGED, 0, "the program may not be forked; its pages are few enough to stage");
        }
        return new CapturePlan(How.STREAMED, 0, incremental
                ? "the program may not be forked, and its pages are more than the stage takes"
                : "a full checkpoint of a program that may not be forked");
    }
}
