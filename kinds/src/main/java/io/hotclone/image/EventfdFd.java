package io.hotclone.image;

import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.util.List;

import static io.hotclone.bindings.linux.Fcntl.EFD_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.EFD_NONBLOCK;
import static io.hotclone.bindings.linux.Fcntl.EFD_SEMAPHORE;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_eventfd2;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_write;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An eventfd (eventfd(2)): made again with its counter and its mode.
 *
 * @param count     the counter, an unsigned 64-bit value
 * @param semaphore whether a read takes one from the counter (EFD_SEMAPHORE) rather than all of it
 */
@Tag(value = 11, version = 1, name = "eventfd-fd")
public record EventfdFd(int fd, int flags, boolean closeOnExec, long count, boolean semaphore) implements FdState {
    private static final String TARGET = "anon_inode:[eventfd]";

    /** The state of {@code fd}, or null when it is not an eventfd; refuses one it cannot restore as it is. */
    static EventfdFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.equals(TARGET)) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is an eventfd";
        int flags = Reopen.anonymousFlags(refusal, info);
        List<String> lines = proc.lines("fdinfo/" + fd);
        long count = Long.parseUnsignedLong(Reopen.fdinfoField(proc, fd, lines, "eventfd-count", refusal), 16);
        boolean semaphore = !Reopen.fdinfoField(proc, fd, lines, "eventfd-semaphore", refusal).equals("0");
        return new EventfdFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, count, semaphore);
    }

    /** eventfd2 takes a 32-bit initial value: the 64-bit counter is written once it is made. */
    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int made = (closeOnExec ? EFD_CLOEXEC : 0) | ((flags & O_NONBLOCK) != 0 ? EFD_NONBLOCK : 0)
                | (semaphore ? EFD_SEMAPHORE : 0);
        long got = remote.check("eventfd2(0, 0x" + Integer.toHexString(made) + ") for fd " + fd, SYS_eventfd2, 0, made);
        if (count != 0) {
            try (Arena arena = Arena.ofConfined()) {
                long address = remote.put(0, arena.allocateFrom(JAVA_LONG, count));
                remote.check("write(" + got + ", " + Long.toUnsignedString(count) + ") to the eventfd for fd " + fd,
                        SYS_write, got, address, Long.BYTES);
            }
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }
}
