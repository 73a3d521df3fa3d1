package io.hotclone.kinds.fd;

import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.FdState;
import io.hotclone.image.InheritedFd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Kcmp.KCMP_FILE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;

/**
 * One of hotclone's own stdin, stdout or stderr, which the program shares (the same open file,
 * as kcmp(2) tells): a terminal, a pipe or a file the operator gave hotclone. It is handed
 * over again on restore: the restoring hotclone's descriptor of the same number. Tried before
 * every other kind, since an open file shared with hotclone has no state of its own to save.
 */
public final class InheritedKind implements FdKind {
    static final int STDIO = 3;

    @Override
    public FdState dump(ProcFs proc, int fd, String target, FdInfo info) {
        int self = (int) ProcessHandle.current().pid();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            for (int hostFd = 0; hostFd < STDIO; hostFd++) {
                if (Libc.syscall(callState, SYS_kcmp, proc.pid(), self, KCMP_FILE, fd, hostFd, 0) == 0) {
                    return new InheritedFd(fd, info.flags() & ~O_CLOEXEC, (info.flags() & O_CLOEXEC) != 0, hostFd, target);
                }
            }
        }
        return null;
    }

    /**
     * Moves the restoring hotclone's descriptor, which the restored process inherited at
     * {@code parked} (see {@link FdKind#restoreAll}), to its number.
     */
    static void restore(RemoteSyscalls remote, InheritedFd i, int parked) {
        remote.check("dup3(" + parked + ", " + i.fd() + ")", SYS_dup3, parked, i.fd(), i.closeOnExec() ? O_CLOEXEC : 0);
    }

    static void release(RemoteSyscalls remote, int parked) {
        remote.check("close(" + parked + ")", SYS_close, parked);
    }
}
