package io.hotclone.capture;

/**
 * The pages are read from the frozen program straight into the journal's append ring: the
 * program runs again once the last batch is read, not written. The way of a full checkpoint
 * that cannot fork, and of an incremental one too big to stage.
 */
final class StreamedCapture implements PageCapture {
    @Override
    public long whileFrozen(CheckpointPages pages) {
        return pages.readProgram(pages.areas(), pages.append());
    }

    @Override
    public long afterRelease(CheckpointPages pages) {
        return 0;
    }
}
