package io.hotclone.capture;

import io.hotclone.image.ImageHeader;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Journal;

import java.util.function.Consumer;

/**
 * One checkpoint's way into the journal through the program's {@link AppendRing}: begun, with
 * its header, when the first process's section is sent; each process's records then go ahead
 * of its pages.
 *
 * <p>Thread confinement: the checkpoint's thread.
 */
final class CheckpointAppend implements AutoCloseable {
    private final AppendRing ring;
    private final Journal journal;
    private ImageHeader header;
    private AppendRing.Append append;

    CheckpointAppend(AppendRing ring, Journal journal) {
        this.ring = ring;
        this.journal = journal;
    }

    /** The checkpoint's header, known once every process is read at the barrier. */
    void header(ImageHeader h) {
        header = h;
    }

    /** Sends a process's records ({@code records}), which its pages then follow; begins the checkpoint first. */
    AppendRing.Append section(Consumer<CheckpointWriter> records) {
        if (append == null) {
            ImageHeader h = header;
            append = ring.begin(h.seq(), () -> journal.begin(h));
        }
        append.records(records);
        return append;
    }

    /** Ends the checkpoint, abandoning it unless committed. */
    @Override
    public void close() {
        if (append != null) {
            append.close();
        }
    }
}
