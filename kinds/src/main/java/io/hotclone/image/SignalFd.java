package io.hotclone.image;

import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Signalfd.SFD_CLOEXEC;
import static io.hotclone.bindings.linux.Signalfd.SFD_NONBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_signalfd4;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A signalfd (signalfd(2)): made again with its mask. The signals it reads are the process's
 * and its threads' pending ones, which the checkpoint keeps with them.
 *
 * @param mask the signals it accepts, bit n - 1 for signal n
 */
@Tag(value = 16, version = 1, name = "signal-fd")
public record SignalFd(int fd, int flags, boolean closeOnExec, long mask) implements FdState {
    private static final String TARGET = "anon_inode:[signalfd]";

    /** The state of {@code fd}, or null when it is not a signalfd; refuses one it cannot restore as it is. */
    static SignalFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.equals(TARGET)) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is a signalfd";
        int flags = Reopen.anonymousFlags(refusal, info);
        long mask = Long.parseUnsignedLong(Reopen.fdinfoField(proc, fd, proc.lines("fdinfo/" + fd), "sigmask",
                refusal), 16);
        return new SignalFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, mask);
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int made = (closeOnExec ? SFD_CLOEXEC : 0) | ((flags & O_NONBLOCK) != 0 ? SFD_NONBLOCK : 0);
        try (Arena arena = Arena.ofConfined()) {
            long got = remote.check("signalfd4(mask 0x" + Long.toHexString(mask) + ") for fd " + fd, SYS_signalfd4, -1,
                    remote.put(0, arena.allocateFrom(JAVA_LONG, mask)), Long.BYTES, made);
            Reopen.move(remote, got, fd, closeOnExec);
        }
    }
}
