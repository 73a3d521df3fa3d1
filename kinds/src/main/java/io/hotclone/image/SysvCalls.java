package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.ipc_perm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The calls the System V IPC kinds ({@link SysvIpc}) make, from a thread in the program's IPC
 * namespace: a system call that names itself when it fails, the table of a kind's objects, the
 * id the next object gets, the owner and mode.
 */
final class SysvCalls {
    private SysvCalls() {
    }

    /** System call {@code nr} made here with up to five arguments; its result, or an exception naming {@code what}. */
    static long call(String what, long nr, long... args) {
        return callOr(0, what, nr, args);
    }

    /** As {@link #call}, but a failure with errno {@code tolerated} (not 0) returns {@code -tolerated}. */
    static long callOr(int tolerated, String what, long nr, long... args) {
        long[] a = Arrays.copyOf(args, 5);
        MemorySegment cs = Native.callState();
        long r = Libc.syscall(cs, nr, a[0], a[1], a[2], a[3], a[4], 0);
        if (r == -1) {
            int errno = Libc.errno(cs);
            if (tolerated != 0 && errno == tolerated) {
                return -errno;
            }
            throw new SyscallException(what, errno);
        }
        return r;
    }

    /** The rows of /proc/sysvipc/{@code kind} ("shm", "sem", "msg"), each split into its columns. */
    static List<String[]> table(String kind) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/sysvipc/" + kind));
            return lines.stream().skip(1).map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.split("\\s+"))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/sysvipc/" + kind, e);
        }
    }

    /** Makes the next object of {@code kind} ("shm", "sem", "msg") get {@code id}. */
    static void nextId(String kind, int id) {
        Path file = Path.of("/proc/sys/kernel/" + kind + "_next_id");
        try {
            Files.writeString(file, Integer.toString(id));
        } catch (IOException e) {
            throw new HotcloneException("cannot set " + file + " to " + id + " to make the System V object with that id"
                    + " again: " + e.getMessage() + " (the kernel needs CONFIG_CHECKPOINT_RESTORE)", e);
        }
    }

    /** Checks that the object made for {@code object} has its id. */
    static void madeAs(SysvIpc object, long id) {
        if (id != object.id()) {
            throw new HotcloneException("the " + object.describe() + " was made again as id " + id + ", not "
                    + object.id() + ": another object holds its id in the program's IPC namespace");
        }
    }

    /** Sets {@code object}'s owner and mode into {@code perm}, an ipc_perm its IPC_STAT filled, for IPC_SET. */
    static void perms(SysvIpc object, MemorySegment perm) {
        ipc_perm.uid(perm, object.uid());
        ipc_perm.gid(perm, object.gid());
        ipc_perm.mode(perm, object.mode() & 0777);
    }

    /** A key as ipcs(1) shows it (IPC_PRIVATE is 0). */
    static String hex(int key) {
        return "0x" + String.format("%08x", key);
    }
}
