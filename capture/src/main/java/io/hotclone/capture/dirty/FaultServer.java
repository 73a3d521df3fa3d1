package io.hotclone.capture.dirty;

import io.hotclone.bindings.linux.Errno;

/**
 * Serves the program's first write to a page hotclone protected: the SIGSEGV its tracer
 * catches. The page gets its write permission back and counts as written, with the block
 * around it that the write likely goes on into.
 *
 * <p>A first write opens one page; when it extends a run of pages written since the last
 * collect, a block as long as that run (up to {@link #MAX_BLOCK}), so that sequential writing
 * costs a number of faults that grows with the log of its length; when its page was written in
 * the last interval, or another page of its {@link #HOT_BLOCK} block in this one, that block, so
 * that a burst of writes over a hot region costs a fault per block, not per page. The unwritten
 * pages of an opened block count as written.
 *
 * <p>Thread confinement: the program's tracer thread, at the signal-delivery stop.
 */
final class FaultServer {
    /** The most a first write opens, when it continues a run of pages written since the last collect. */
    static final long MAX_BLOCK = 1L << 20;
    /** What a first write opens in a page written in the last interval too: its aligned block of this size. */
    static final long HOT_BLOCK = 64L << 10;
    private static final long PAGE = PageRange.PAGE;

    private final Protections protections;

    FaultServer(Protections protections) {
        this.protections = protections;
    }

    /**
     * The program's first write to a page since it was protected, at {@code address}.
     *
     * @return false when hotclone did not protect that address: the SIGSEGV is the program's own
     */
    boolean fault(long address) {
        Protections.Armed a = protections.armedAt(address);
        if (a == null || !a.writable()) {
            return false;
        }
        RangeSet opened = protections.opened;
        long page = address & -PAGE;
        if (opened.covers(page, page + PAGE)) {
            return false; // writable already: not a fault of hotclone's making
        }
        // A program writing on from pages it wrote since the last collect (filling a buffer, its
        // setup touching a new heap) gets a block as long as that run, up to MAX_BLOCK: the faults
        // of a sequential sweep grow in number with the log of its length, not the length.
        long block = Math.min(Math.max(PAGE, opened.runEndingAt(page)), MAX_BLOCK);
        long from = page;
        long hotStart = page & -HOT_BLOCK;
        if (block == PAGE && (!protections.lastOpen.within(page, page + PAGE).isEmpty()
                || opened.intersects(hotStart, hotStart + HOT_BLOCK))) {
            // Written in the last interval too (though protected again since: the hot set's cool-down),
            // or a second page of its block written in this one: its neighbours likely are as well,
            // and their faults would come in a burst. Open the block together.
            from = Math.max(a.start(), Math.max(opened.openEndBefore(page), hotStart));
            block = hotStart + HOT_BLOCK - page;
        }
        // Up to the first page open already (the page itself is not).
        long end = opened.gaps(page, Math.min(a.end(), page + block)).getFirst().end();
        try (Protections.Calls calls = protections.calls()) {
            if (calls.tryMprotect(from, end, a.prot()) == -Errno.ENOMEM) {
                // One area more would pass vm.max_map_count: open the whole area in one piece.
                calls.mprotect(a.start(), a.end(), a.prot());
                opened.add(a.start(), a.end());
                return true;
            }
        }
        opened.add(from, end);
        return true;
    }
}
