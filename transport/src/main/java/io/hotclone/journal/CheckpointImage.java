package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;

import java.util.List;

/** The metadata of one committed checkpoint, every record in journal order; its pages are read
 *  apart with {@link Journal#pages}. */
public record CheckpointImage(ImageHeader header, ProcessState process, List<ThreadState> threads,
                              List<MemoryArea> areas, List<FdState> fds, Commit commit) {
}
