package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.linux.ipc_perm;
import io.hotclone.bindings.linux.shmid_ds;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.hotclone.bindings.linux.Ipc.IPC_CREAT;
import static io.hotclone.bindings.linux.Ipc.IPC_EXCL;
import static io.hotclone.bindings.linux.Ipc.IPC_RMID;
import static io.hotclone.bindings.linux.Ipc.IPC_SET;
import static io.hotclone.bindings.linux.Ipc.IPC_STAT;
import static io.hotclone.bindings.linux.Ipc.SHM_DEST;
import static io.hotclone.bindings.linux.Ipc.SHM_RDONLY;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shmat;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shmctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shmdt;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shmget;

/**
 * A System V shared memory segment of the program's IPC namespace (see {@link SysvIpc}), with
 * its bytes, read whole at every checkpoint through an attach of hotclone's own. The program's
 * attaches are its processes' memory areas ({@link AreaKind#SYSV_SHM}), which carry no pages.
 *
 * @param size     its size in bytes, as shmget(2) was given it
 * @param contents its bytes
 */
@Tag(value = 21, version = 1, name = "sysv-shm")
public record SysvShm(int id, int key, int uid, int gid, int mode, long size, byte[] contents) implements SysvIpc {
    /** The largest segment a checkpoint carries: one journal record holds it. */
    public static final long MAX_BYTES = 8L << 20;

    static SysvShm dump(int id, int key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = shmid_ds.allocate(arena);
            SysvCalls.call("shmctl(" + id + ", IPC_STAT)", SYS_shmctl, id, IPC_STAT, ds.address(), 0);
            long size = shmid_ds.shm_segsz(ds);
            MemorySegment perm = shmid_ds.shm_perm(ds);
            SysvShm described = new SysvShm(id, key, ipc_perm.uid(perm),
                    ipc_perm.gid(perm), ipc_perm.mode(perm), size,
                    null);
            if (size > MAX_BYTES) {
                throw new HotcloneException("cannot checkpoint the program: its " + described.describe() + " is larger"
                        + " than the " + (MAX_BYTES >> 20) + " MiB a checkpoint carries of a segment yet");
            }
            long at = SysvCalls.call("shmat(" + id + ", SHM_RDONLY)", SYS_shmat, id, 0, SHM_RDONLY, 0);
            try {
                return new SysvShm(id, key, described.uid(), described.gid(), described.mode(), size,
                        MemorySegment.ofAddress(at).reinterpret(size).toArray(ValueLayout.JAVA_BYTE));
            } finally {
                SysvCalls.call("shmdt(" + id + ")", SYS_shmdt, at, 0, 0, 0);
            }
        }
    }

    /** Whether the program removed it (IPC_RMID) while a process had it attached. */
    public boolean destroyed() {
        return (mode & SHM_DEST) != 0;
    }

    /** How many bytes an attach maps: its size, to whole pages. */
    public long mappedLength() {
        return (size + 4095) & ~4095L;
    }

    @Override
    public String describe() {
        return "System V shared memory segment " + id + " (key " + SysvCalls.hex(key) + ", " + size + " bytes)";
    }

    @Override
    public void make() {
        SysvCalls.nextId("shm", id);
        SysvCalls.madeAs(this, SysvCalls.call("shmget(" + describe() + ")", SYS_shmget, key, size,
                IPC_CREAT | IPC_EXCL | (mode & 0777), 0));
    }

    @Override
    public void fill() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = shmid_ds.allocate(arena);
            SysvCalls.call("shmctl(" + id + ", IPC_STAT)", SYS_shmctl, id, IPC_STAT, ds.address(), 0);
            SysvCalls.perms(this, shmid_ds.shm_perm(ds));
            SysvCalls.call("shmctl(" + id + ", IPC_SET)", SYS_shmctl, id, IPC_SET, ds.address(), 0);
        }
        long at = SysvCalls.call("shmat(" + id + ")", SYS_shmat, id, 0, 0, 0);
        try {
            MemorySegment.ofAddress(at).reinterpret(size).copyFrom(MemorySegment.ofArray(contents));
        } finally {
            SysvCalls.call("shmdt(" + id + ")", SYS_shmdt, at, 0, 0, 0);
        }
    }

    void remove() {
        SysvCalls.call("shmctl(" + id + ", IPC_RMID)", SYS_shmctl, id, IPC_RMID, 0, 0);
    }
}
