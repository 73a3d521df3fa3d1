package io.hotclone.image;

import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Kcmp.KCMP_FILE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_dup3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;

/**
 * A descriptor that is another's open file description (as dup(2) makes, or fork with the
 * program's own descriptors): made again as a duplicate of that one, so that the two share
 * their offset and flags after a restore as before. Only the close-on-exec flag is its own. It is
 * restored in the pass after its original's ({@link FdState#restoreAll}).
 *
 * @param of the lower descriptor it duplicates, saved by its own kind
 */
@Tag(value = 13, version = 1, name = "dup-fd")
public record DupFd(int fd, int flags, boolean closeOnExec, int of) implements FdState {

    /**
     * The state of {@code fd} if it is the same open file as one of {@code before} (the
     * descriptors saved so far), else null. kcmp(2) tells; only those with the same target
     * are asked.
     */
    static DupFd dump(ProcFs proc, int fd, String target, FdInfo info, List<FdState> before, List<String> targets) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            for (int i = 0; i < before.size(); i++) {
                FdState earlier = before.get(i);
                if (!(earlier instanceof DupFd) && targets.get(i).equals(target) && Libc.syscall(callState, SYS_kcmp,
                        proc.pid(), proc.pid(), KCMP_FILE, earlier.fd(), fd, 0) == 0) {
                    return new DupFd(fd, info.flags() & ~O_CLOEXEC, (info.flags() & O_CLOEXEC) != 0, earlier.fd());
                }
            }
        }
        return null;
    }

    @Override
    public void restore(Parking parking) {
        parking.remote().check("dup3(" + of + ", " + fd + ") for fd " + fd + ", the same open file as fd " + of,
                SYS_dup3, of, fd, closeOnExec ? O_CLOEXEC : 0);
    }
}
