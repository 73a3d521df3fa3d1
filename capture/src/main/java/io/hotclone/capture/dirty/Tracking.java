package io.hotclone.capture.dirty;

/** How a protected program's written pages are found between checkpoints. */
public enum Tracking {
    /** userfaultfd asynchronous write-protect read with PAGEMAP_SCAN ({@link UffdWpTracker}, Linux 6.7). */
    UFFD,
    /** Page protection and the program's SIGSEGVs, served by its tracer ({@link MprotectTracker}). */
    MPROTECT,
    /** None: every checkpoint is full. */
    NONE
}
