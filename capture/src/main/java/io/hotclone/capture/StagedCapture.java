package io.hotclone.capture;

/**
 * The pages are copied from the frozen program into the chain's stage, memory faulted in
 * already, at memory speed; the journal gets them after the program runs again. The way of an
 * incremental checkpoint small enough.
 */
final class StagedCapture implements PageCapture {
    @Override
    public long whileFrozen(CheckpointPages pages) {
        return pages.readProgram(pages.areas(), pages.chain().stage());
    }

    @Override
    public long afterRelease(CheckpointPages pages) {
        pages.chain().drainStage(pages.append());
        return 0;
    }
}
