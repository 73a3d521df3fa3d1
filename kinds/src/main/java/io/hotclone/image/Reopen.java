package io.hotclone.image;

import io.hotclone.process.ptrace.RemoteSyscalls;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;

/** Opening a descriptor in a restored process and moving it to its saved number. */
final class Reopen {
    private Reopen() {
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
