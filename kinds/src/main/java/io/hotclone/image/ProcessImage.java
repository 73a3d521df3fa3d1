package io.hotclone.image;

import java.util.List;

/**
 * One process of a checkpoint: its record and the records that follow it in the journal, its
 * threads (the leader first), memory areas, descriptors and its children that ended but were not
 * waited for (zombies); the program's first process also holds the System V IPC objects of the
 * program's IPC namespace. Its pages are read apart.
 */
public record ProcessImage(ProcessState process, List<ThreadState> threads, List<MemoryArea> areas,
                           List<FdState> fds, List<ZombieState> zombies, List<SysvIpc> ipc) {
    /** The pid the program knows the process by (its leader's, in records that did not save it). */
    public int vpid() {
        if (process.vpid() != 0 || threads.isEmpty()) {
            return process.vpid();
        }
        return threads.getFirst().programTid();
    }
}
