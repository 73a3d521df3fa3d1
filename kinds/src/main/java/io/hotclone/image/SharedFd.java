package io.hotclone.image;

import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Kcmp.KCMP_FILE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;

/**
 * A descriptor that is the open file description of a descriptor of another process of the
 * program (one a fork left both, or one passed along): made again as a copy of that one, taken
 * from that process (restored before: parents come first) through the {@link FdExchange}, so
 * that the two share their offset and flags after a restore as before. Only the close-on-exec
 * flag is its own.
 *
 * @param vpid the pid the program knows the other process by
 * @param of   the other process's descriptor, saved by its own kind
 */
@Tag(value = 19, version = 1, name = "shared-fd")
public record SharedFd(int fd, int flags, boolean closeOnExec, int vpid, int of) implements FdState {

    /**
     * The state of {@code fd} if it is the same open file as one of {@code program}'s (the
     * descriptors of the processes saved before), else null. kcmp(2) tells; only those with
     * the same target are asked.
     */
    static SharedFd dump(ProcFs proc, int fd, String target, FdInfo info, List<FdState.Held> program) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            for (FdState.Held h : program) {
                if (h.target().equals(target) && Libc.syscall(callState, SYS_kcmp, h.pid(), proc.pid(), KCMP_FILE, h.fd(),
                        fd, 0) == 0) {
                    return new SharedFd(fd, info.flags() & ~O_CLOEXEC, (info.flags() & O_CLOEXEC) != 0, h.vpid(), h.fd());
                }
            }
        }
        return null;
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int got = FdExchange.copy(remote, vpid, of, "fd " + of + " of process " + vpid + " for fd " + fd
                + ", the same open file");
        Reopen.move(remote, got, fd, closeOnExec);
    }
}
