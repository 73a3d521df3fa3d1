package io.hotclone.capture;

/**
 * One way of getting a checkpoint's pages from the program into the journal, chosen by its
 * {@link CapturePlan}: what is read while the program is frozen, and what after it runs again.
 *
 * <p>Thread confinement: the checkpoint's thread.
 */
sealed interface PageCapture extends AutoCloseable permits StreamedCapture, StagedCapture, ForkCapture {
    /** Under the freeze: reads what must be read before the program runs again; returns how many pages. */
    long whileFrozen(CheckpointPages pages);

    /**
     * After the program runs again: gets the rest into the journal, through its append (begun
     * by now at the latest); returns how many pages more.
     */
    long afterRelease(CheckpointPages pages);

    /** Lets go of what the capture holds; nothing by default. */
    @Override
    default void close() {
    }
}
