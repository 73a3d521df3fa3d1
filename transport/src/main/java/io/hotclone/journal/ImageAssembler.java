package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.ImageRecord;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;

import java.util.ArrayList;
import java.util.List;

/** Collects the decoded metadata records of one checkpoint, in journal order, into its image. */
final class ImageAssembler {
    private ImageHeader header;
    private ProcessState process;
    private final List<ThreadState> threads = new ArrayList<>();
    private final List<MemoryArea> areas = new ArrayList<>();
    private final List<FdState> fds = new ArrayList<>();
    private Commit commit;

    void add(ImageRecord record) {
        switch (record) {
            case ImageHeader h -> header = h;
            case ProcessState p -> process = p;
            case ThreadState t -> threads.add(t);
            case MemoryArea a -> areas.add(a);
            case FdState f -> fds.add(f);
            case Commit c -> commit = c;
        }
    }

    CheckpointImage image() {
        return new CheckpointImage(header, process, List.copyOf(threads), List.copyOf(areas), List.copyOf(fds), commit);
    }
}
