package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.IpcNamespace;

import java.util.ArrayList;
import java.util.List;

/**
 * A System V IPC object of the program's IPC namespace (as {@code hotclone run} starts it, one
 * of its own): a shared memory segment, a semaphore set or a message queue, with the id, key,
 * owner and mode it had. They are saved whole at every checkpoint in the program's first
 * process's section; a restore makes them again with their ids in the namespace it makes
 * (/proc/sys/kernel/*_next_id) before any process attaches a segment, fills them, and removes
 * last the segments the program had removed while attached. Each call here runs on a thread of
 * hotclone's that joins the namespace ({@link IpcNamespace}).
 */
public sealed interface SysvIpc extends ImageRecord permits SysvShm, SysvSem, SysvMsg {
    int id();

    int key();

    int uid();

    int gid();

    /** Its permission bits, with a segment's SHM_DEST and SHM_LOCKED flags. */
    int mode();

    /** What it is by kind, id, key and size: the same text for an object made alike. */
    String describe();

    /** Makes it, empty, with its id, key and permission bits (in the calling thread's IPC namespace). */
    void make();

    /** Gives it its owner, mode and contents: a segment's bytes, the semaphores' values, the queue's messages. */
    void fill();

    /** Every object of the IPC namespace the calling thread is in (one of {@link IpcNamespace}'s). */
    public static List<SysvIpc> readAll() {
        List<SysvIpc> all = new ArrayList<>();
        SysvCalls.table("shm").forEach(r -> all.add(SysvShm.dump(Integer.parseInt(r[1]), Integer.parseInt(r[0]))));
        SysvCalls.table("sem").forEach(r -> all.add(SysvSem.dump(Integer.parseInt(r[1]), Integer.parseInt(r[0]))));
        SysvCalls.table("msg").forEach(r -> all.add(SysvMsg.dump(Integer.parseInt(r[1]), Integer.parseInt(r[0]),
                Long.parseLong(r[3]))));
        return List.copyOf(all);
    }

    /**
     * {@code objects}, the {@link #readAll} of the IPC namespace of process {@code pid}, the
     * program's first one; refused when a restore could not make them again: the program is not
     * pid 1 of namespaces of its own ({@code vpid}), as hotclone run starts it.
     */
    public static List<SysvIpc> kept(List<SysvIpc> objects, int pid, int vpid) {
        if (!objects.isEmpty() && vpid != 1) {
            throw new HotcloneException("cannot checkpoint process " + pid + ": its IPC namespace holds the "
                    + objects.getFirst().describe() + (objects.size() > 1 ? " and " + (objects.size() - 1) + " more" : "")
                    + ", which a restore makes again only for a program hotclone started (hotclone run), pid 1 of"
                    + " namespaces of its own");
        }
        return objects;
    }

    /** Makes {@code objects}, empty, in the IPC namespace of process {@code pid}, which holds none yet. */
    static void make(int pid, List<SysvIpc> objects) {
        if (!objects.isEmpty()) {
            IpcNamespace.call(pid, () -> {
                objects.forEach(SysvIpc::make);
                return null;
            });
        }
    }

    /** Fills {@code objects}, made by {@link #make}, in the IPC namespace of process {@code pid}. */
    static void fill(int pid, List<SysvIpc> objects) {
        if (!objects.isEmpty()) {
            IpcNamespace.call(pid, () -> {
                objects.forEach(SysvIpc::fill);
                return null;
            });
        }
    }

    /**
     * Removes the segments of {@code objects} the program had removed while attached (SHM_DEST),
     * once every process has attached them again: they go when the last one detaches.
     */
    static void removeDestroyed(int pid, List<SysvIpc> objects) {
        List<SysvShm> destroyed = objects.stream().filter(o -> o instanceof SysvShm s && s.destroyed())
                .map(SysvShm.class::cast).toList();
        if (!destroyed.isEmpty()) {
            IpcNamespace.call(pid, () -> {
                destroyed.forEach(SysvShm::remove);
                return null;
            });
        }
    }
}
