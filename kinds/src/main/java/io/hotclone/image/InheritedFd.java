package io.hotclone.image;

import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Kcmp.KCMP_FILE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;

/**
 * A descriptor the program shares with the hotclone that runs it (its stdin, stdout or stderr:
 * a terminal, a pipe, a log file the operator redirected: the same open file, as kcmp(2) tells).
 * It is not reopened but handed over: a restore gives the program the same descriptor of the
 * hotclone that restores it. Tried before every other kind, since an open file shared with
 * hotclone has no state of its own to save.
 *
 * @param hostFd which of hotclone's descriptors (0, 1 or 2) it is
 * @param path   what it was, for people reading the journal
 */
@Tag(value = 9, version = 1, name = "inherited-fd")
public record InheritedFd(int fd, int flags, boolean closeOnExec, int hostFd, String path) implements FdState {
    private static final int STDIO = 3;

    /** The state of {@code fd}, or null when it is not one of hotclone's own stdio. */
    static InheritedFd dump(ProcFs proc, int fd, String target, FdInfo info) {
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
     * Moves the restoring hotclone's descriptor, which the restored process inherited where
     * {@link FdState#restoreAll} parked it, to its number.
     */
    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int from = parking.get(hostFd).orElseThrow();
        remote.check("dup3(" + from + ", " + fd + ")", SYS_dup3, from, fd, closeOnExec ? O_CLOEXEC : 0);
    }
}
