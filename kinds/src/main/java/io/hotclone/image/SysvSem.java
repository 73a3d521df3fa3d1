package io.hotclone.image;

import io.hotclone.bindings.linux.ipc_perm;
import io.hotclone.bindings.linux.semid_ds;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Ipc.GETALL;
import static io.hotclone.bindings.linux.Ipc.IPC_CREAT;
import static io.hotclone.bindings.linux.Ipc.IPC_EXCL;
import static io.hotclone.bindings.linux.Ipc.IPC_SET;
import static io.hotclone.bindings.linux.Ipc.IPC_STAT;
import static io.hotclone.bindings.linux.Ipc.SETALL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_semctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_semget;

/**
 * A System V semaphore set of the program's IPC namespace (see {@link SysvIpc}) with each
 * semaphore's value. The adjustments a process's SEM_UNDO operations would undo at its exit are
 * not kept.
 *
 * @param values each semaphore's value, in order
 */
@Tag(value = 22, version = 1, name = "sysv-sem")
public record SysvSem(int id, int key, int uid, int gid, int mode, List<Integer> values) implements SysvIpc {

    static SysvSem dump(int id, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = semid_ds.allocate(arena);
            SysvCalls.call("semctl(" + id + ", IPC_STAT)", SYS_semctl, id, 0, IPC_STAT, ds.address());
            int count = (int) semid_ds.sem_nsems(ds);
            MemorySegment array = arena.allocate(ValueLayout.JAVA_SHORT, Math.max(1, count));
            SysvCalls.call("semctl(" + id + ", GETALL)", SYS_semctl, id, 0, GETALL, array.address());
            List<Integer> values = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                values.add(Short.toUnsignedInt(array.getAtIndex(ValueLayout.JAVA_SHORT, i)));
            }
            MemorySegment perm = semid_ds.sem_perm(ds);
            return new SysvSem(id, key, ipc_perm.uid(perm), ipc_perm.gid(perm), ipc_perm.mode(perm), List.copyOf(values));
        }
    }

    @Override
    public String describe() {
        return "System V semaphore set " + id + " (key " + SysvCalls.hex(key) + ", " + values.size() + " semaphores)";
    }

    @Override
    public void make() {
        SysvCalls.nextId("sem", id);
        SysvCalls.madeAs(this, SysvCalls.call("semget(" + describe() + ")", SYS_semget, key, values.size(),
                IPC_CREAT | IPC_EXCL | (mode & 0777), 0));
    }

    @Override
    public void fill() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = semid_ds.allocate(arena);
            SysvCalls.call("semctl(" + id + ", IPC_STAT)", SYS_semctl, id, 0, IPC_STAT, ds.address());
            SysvCalls.perms(this, semid_ds.sem_perm(ds));
            SysvCalls.call("semctl(" + id + ", IPC_SET)", SYS_semctl, id, 0, IPC_SET, ds.address());
            MemorySegment array = arena.allocate(ValueLayout.JAVA_SHORT, Math.max(1, values.size()));
            for (int i = 0; i < values.size(); i++) {
                array.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (int) values.get(i));
            }
            SysvCalls.call("semctl(" + id + ", SETALL)", SYS_semctl, id, 0, SETALL, array.address());
        }
    }
}
