package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.ImageRecord;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.ZombieState;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects the decoded metadata records of one checkpoint, in journal order, into its image.
 * Each process record begins the process's section: the threads, areas, fds, zombies and IPC objects after
 * it are its own. The sections come children before parents (the root, whose pages may follow the
 * freeze, last); the image lists them parents first.
 */
final class ImageAssembler {
    private ImageHeader header;
    private final List<Section> sections = new ArrayList<>();
    private Commit commit;

    private record Section(ProcessState process, List<ThreadState> threads, List<MemoryArea> areas,
                           List<FdState> fds, List<ZombieState> zombies, List<SysvIpc> ipc) {
        ProcessImage image() {
            return new ProcessImage(process, List.copyOf(threads), List.copyOf(areas), List.copyOf(fds),
                    List.copyOf(zombies), List.copyOf(ipc));
        }
    }

    void add(ImageRecord record) {
        switch (record) {
            case ImageHeader h -> header = h;
            case ProcessState p -> sections.add(new Section(p, new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>(), new ArrayList<>()));
            case ThreadState t -> section(t).threads().add(t);
            case MemoryArea a -> section(a).areas().add(a);
            case FdState f -> section(f).fds().add(f);
            case ZombieState z -> section(z).zombies().add(z);
            case SysvIpc i -> section(i).ipc().add(i);
            case Commit c -> commit = c;
        }
    }

    private Section section(ImageRecord r) {
        if (sections.isEmpty()) {
            throw new IllegalArgumentException("a " + r.getClass().getSimpleName() + " record comes before any process"
                    + " record");
        }
        return sections.getLast();
    }

    CheckpointImage image() {
        return new CheckpointImage(header, sections.reversed().stream().map(Section::image).toList(), commit);
    }
}
