package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.FileIdentity;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.F_SETPIPE_SZ;
import static io.hotclone.bindings.linux.Fcntl.O_ACCMODE;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_LARGEFILE;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Fcntl.O_RDWR;
import static io.hotclone.bindings.linux.Stat.S_IFIFO;
import static io.hotclone.bindings.linux.Stat.S_IFMT;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mknodat;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;

/**
 * A descriptor open on a named pipe (a FIFO, mkfifo(3)), reading, writing or both: opened again
 * by its path (the FIFO made there with its mode where the restore finds none), holding the bytes
 * that were queued in it. Unlike a pipe's, a FIFO's other end may be outside the program: whoever
 * held it reopens it by name, as after any end of its peer. Each descriptor carries the FIFO's
 * capacity and bytes; the first of the program restored puts them back.
 *
 * @param path     the FIFO's path
 * @param fifo     the FIFO's identity on the capturing node (which descriptors share it)
 * @param mode     its permission bits, for making it where it is missing
 * @param capacity its buffer size (F_GETPIPE_SZ)
 * @param data     the bytes queued in it, unread
 */
@Tag(value = 24, version = 1, name = "fifo-fd")
public record FifoFd(int fd, int flags, boolean closeOnExec, String path, FileIdentity fifo, int mode, int capacity,
                     byte[] data) implements FdState {

    /** The state of {@code fd}, or null when it is not a FIFO; refuses one it cannot restore as it is. */
    static FifoFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.startsWith("/") || target.endsWith(" (deleted)")) {
            return null;
        }
        Path link = proc.path("fd/" + fd);
        int mode = mode(link);
        if ((mode & S_IFMT) != S_IFIFO) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is the FIFO " + target;
        FileIdentity identity = FileIdentities.of(link);
        FileIdentity named = FileIdentities.of(Path.of(target));
        if (identity.device() != named.device() || identity.inode() != named.inode()) {
            throw new HotcloneException(refusal + ", which is no longer at that path (it was renamed or replaced)");
        }
        int flags = info.flags() & ~(O_CLOEXEC | O_LARGEFILE);
        if ((flags & ~(O_NONBLOCK | O_ACCMODE)) != 0) {
            throw new HotcloneException(refusal + " with open flags 0" + Integer.toOctalString(flags)
                    + ", which hotclone cannot restore yet (it restores O_NONBLOCK only: not O_DIRECT, O_ASYNC)");
        }
        PipeFd.Queued queued = PipeFd.queued(proc, fd, refusal);
        return new FifoFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, target, identity, mode & 07777,
                queued.capacity(), queued.data());
    }

    private static int mode(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + path, e);
        }
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        String what = "the FIFO " + path + " of fd " + fd;
        make();
        long pathAddress = remote.putString(0, path);
        // Open for both, it never waits for a peer, and is one while this descriptor is opened.
        long holder = remote.check("openat(" + path + ", O_RDWR) for fd " + fd, SYS_openat, AT_FDCWD, pathAddress,
                O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
        long got;
        try {
            if (parking.exchange().first(fifo)) {
                remote.check("fcntl(F_SETPIPE_SZ, " + capacity + ") for " + what, SYS_fcntl, holder, F_SETPIPE_SZ,
                        capacity);
                PipeFd.refill(remote, holder, data, fd);
            }
            got = remote.check("openat(" + path + ") for fd " + fd, SYS_openat, AT_FDCWD, pathAddress,
                    flags | O_NONBLOCK | (closeOnExec ? O_CLOEXEC : 0), 0);
            if ((flags & O_NONBLOCK) == 0) {
                remote.check("fcntl(F_SETFL, 0) for fd " + fd, SYS_fcntl, got, F_SETFL, 0);
            }
        } finally {
            // Closed before the move: its number may be the one the descriptor moves to.
            remote.check("close(" + holder + ")", SYS_close, holder);
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }

    /** Makes the FIFO with its mode where this node has none; refuses another kind of file at its path. */
    private void make() {
        Path at = Path.of(path);
        if (Files.exists(at)) {
            if ((mode(at) & S_IFMT) != S_IFIFO) {
                throw new HotcloneException("cannot restore fd " + fd + ": " + path + " was a FIFO and is another kind"
                        + " of file here; move it away or restore on a node where it is a FIFO");
            }
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.callState();
            Native.check(Libc.syscall(cs, SYS_mknodat, AT_FDCWD, Native.cString(arena, path).address(), S_IFIFO | mode, 0,
                    0, 0), cs, "mknodat(" + path + ", S_IFIFO | 0" + Integer.toOctalString(mode) + ") to make the FIFO of"
                    + " fd " + fd + " again");
        }
    }
}
