package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;

import java.util.List;

/**
 * The metadata of one committed checkpoint; its pages are read apart with {@link Journal#pages}.
 *
 * @param processes every process of the program, each parent before its children: the
 *                  program's first process (the one hotclone started) first
 */
public record CheckpointImage(ImageHeader header, List<ProcessImage> processes, Commit commit) {
    /** The program's first process, the root of its tree. */
    public ProcessImage root() {
        return processes.getFirst();
    }

    /** The root process's record. */
    public ProcessState process() {
        return root().process();
    }

    /** The root process's threads. */
    public List<ThreadState> threads() {
        return root().threads();
    }

    /** The root process's memory areas. */
    public List<MemoryArea> areas() {
        return root().areas();
    }

    /** The root process's descriptors. */
    public List<FdState> fds() {
        return root().fds();
    }
}
