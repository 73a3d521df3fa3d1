package io.hotclone.image;

import io.hotclone.process.ptrace.RemoteSyscalls;

import static io.hotclone.bindings.linux.Fcntl.AT_FDCWD;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_openat;

/** Opening a path in a restored process and moving the descriptor to its saved number. */
final class Reopen {
    private Reopen() {
    }

    static void open(RemoteSyscalls remote, int fd, String path, int flags, boolean closeOnExec) {
        long pathAddress = remote.putString(0, path);
        int cloexec = closeOnExec ? O_CLOEXEC : 0;
        int open = (flags & ~O_CLOEXEC) | cloexec;
        long got = remote.check("openat(" + path + ") for fd " + fd, SYS_openat, AT_FDCWD, pathAddress, open, 0);
        if (got != fd) {
            remote.check("dup3(" + got + ", " + fd + ")", SYS_dup3, got, fd, cloexec);
            remote.check("close(" + got + ")", SYS_close, got);
        }
    }
}
