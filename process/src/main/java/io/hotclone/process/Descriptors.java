package io.hotclone.process;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_getfd;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_open;

/** Another process's descriptors, taken into hotclone. */
public final class Descriptors {
    private Descriptors() {
    }

    /**
     * A descriptor of hotclone's for the open file {@code fd} of process {@code pid} is
     * (pidfd_getfd(2)): the same open file, shared with the process, close-on-exec; the caller
     * closes it.
     */
    public static int copyOf(int pid, int fd) {
        MemorySegment cs = Native.callState();
        int pidfd = (int) Native.check(Libc.syscall(cs, SYS_pidfd_open, pid, 0, 0, 0, 0, 0),
                cs, () -> "pidfd_open(" + pid + ")");
        try {
            return (int) Native.check(Libc.syscall(cs, SYS_pidfd_getfd, pidfd, fd, 0, 0, 0, 0),
                    cs, () -> "pidfd_getfd(pid=" + pid + ", fd=" + fd + ")");
        } finally {
            Libc.close(cs, pidfd);
        }
    }

    /** Closes {@code fd}, one of hotclone's own that {@link #copyOf} gave. */
    public static void close(int fd) {
        Libc.close(Native.callState(), fd);
    }
}
