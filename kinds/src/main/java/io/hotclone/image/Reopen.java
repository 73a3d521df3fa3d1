package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongFunction;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Fcntl.O_RDWR;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Opening a descriptor in a restored process and moving it to its saved number. */
final class Reopen {
    private static final String SOCKET = "socket:[";

    private Reopen() {
    }

    /**
     * The open flags of an anonymous-inode descriptor ({@code info}, without O_CLOEXEC), made
     * again by a call that takes O_NONBLOCK alone (eventfd2, epoll_create1 and fcntl): refuses,
     * beginning with {@code refusal}, one with other flags (set by fcntl F_SETFL), which would be lost.
     */
    static int anonymousFlags(String refusal, FdInfo info) {
        int flags = info.flags() & ~O_CLOEXEC;
        if ((flags & ~O_NONBLOCK) != O_RDWR) {
            throw new HotcloneException(refusal + " with open flags 0" + Integer.toOctalString(flags)
                    + ", which hotclone cannot restore yet (it restores O_RDWR and O_NONBLOCK only)");
        }
        return flags;
    }

    /**
     * The value of the line {@code name:} of {@code fd}'s fdinfo ({@code lines}); refuses,
     * beginning with {@code refusal}, when it is missing.
     */
    static String fdinfoField(ProcFs proc, int fd, List<String> lines, String name, String refusal) {
        return lines.stream()
                .filter(line -> line.startsWith(name + ":"))
                .map(line -> line.substring(name.length() + 1).strip())
                .findFirst()
                .orElseThrow(() -> new HotcloneException(refusal + " and /proc/" + proc.pid() + "/fdinfo/" + fd
                        + " has no " + name + " line; hotclone needs a newer kernel, one that shows it"));
    }

    /** The inode of the socket behind a /proc/PID/fd link ("socket:[INODE]"), empty for another file. */
    static OptionalLong socketInode(String target) {
        return target.startsWith(SOCKET) && target.endsWith("]")
                ? OptionalLong.of(Long.parseLong(target.substring(SOCKET.length(), target.length() - 1)))
                : OptionalLong.empty();
    }

    /**
     * Makes two connected descriptors in the process {@code remote} runs in with a call that
     * writes them to an int[2] (pipe2, socketpair): {@code args} gives the call's arguments for
     * the address of that array in the scratch.
     */
    static int[] pair(RemoteSyscalls remote, String what, int nr, LongFunction<long[]> args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ends = arena.allocate(JAVA_INT, 2);
            long at = remote.put(0, ends);
            remote.check(what, nr, args.apply(at));
            remote.memory().read(at, ends);
            return new int[] {ends.getAtIndex(JAVA_INT, 0), ends.getAtIndex(JAVA_INT, 1)};
        }
    }

    static void open(RemoteSyscalls remote, int fd, String path, int flags, boolean closeOnExec) {
        long pathAddress = remote.putString(0, path);
        int open = (flags & ~O_CLOEXEC) | (closeOnExec ? O_CLOEXEC : 0);
        long got = remote.check("openat(" + path + ") for fd " + fd, SYS_openat, AT_FDCWD, pathAddress, open, 0);
        move(remote, got, fd, closeOnExec);
    }

    /**
     * Moves {@code got}, a descriptor just made with its close-on-exec flag as saved, to its
     * number {@code fd} (dup3 refuses to move a descriptor onto itself).
     */
    static void move(RemoteSyscalls remote, long got, int fd, boolean closeOnExec) {
        if (got != fd) {
            remote.check("dup3(" + got + ", " + fd + ")", SYS_dup3, got, fd, closeOnExec ? O_CLOEXEC : 0);
            remote.check("close(" + got + ")", SYS_close, got);
        }
    }
}
