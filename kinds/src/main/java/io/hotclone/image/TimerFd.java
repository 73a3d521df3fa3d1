package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clock_gettime;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_ioctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_timerfd_create;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_timerfd_settime;
import static io.hotclone.bindings.linux.Timerfd.TFD_CLOEXEC;
import static io.hotclone.bindings.linux.Timerfd.TFD_IOC_SET_TICKS;
import static io.hotclone.bindings.linux.Timerfd.TFD_NONBLOCK;
import static io.hotclone.bindings.linux.Timerfd.TFD_TIMER_ABSTIME;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A timerfd (timerfd_create(2)): made again on its clock, set to fire after the time that was
 * left at the checkpoint and then every interval, with the expirations not yet read. A timer
 * set to an absolute time (TFD_TIMER_ABSTIME) is set again to an absolute time, the one left
 * from now on the restoring node's clock. A periodic timer whose expirations wait to be read
 * (fdinfo shows it no time left) fires again an interval after the restore.
 *
 * @param clock          its clock id (CLOCK_MONOTONIC ...)
 * @param settimeFlags   the flags of its last timerfd_settime (TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET)
 * @param ticks          the expirations not read yet
 * @param valueNanos     the time left until it fires, 0 if disarmed
 * @param intervalNanos  its period, 0 for a one-shot
 */
@Tag(value = 15, version = 1, name = "timer-fd")
public record TimerFd(int fd, int flags, boolean closeOnExec, int clock, int settimeFlags, long ticks,
                      long valueNanos, long intervalNanos) implements FdState {
    private static final String TARGET = "anon_inode:[timerfd]";
    private static final Pattern TIME = Pattern.compile("\\((\\d+), (\\d+)\\)");
    private static final long NANOS = 1_000_000_000L;

    /** The state of {@code fd}, or null when it is not a timerfd; refuses one it cannot restore as it is. */
    static TimerFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.equals(TARGET)) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is a timerfd";
        int flags = Reopen.anonymousFlags(refusal, info);
        List<String> lines = proc.lines("fdinfo/" + fd);
        return new TimerFd(fd, flags, (info.flags() & O_CLOEXEC) != 0,
                Integer.parseInt(Reopen.fdinfoField(proc, fd, lines, "clockid", refusal)),
                Integer.parseInt(Reopen.fdinfoField(proc, fd, lines, "settime flags", refusal), 8),
                Long.parseUnsignedLong(Reopen.fdinfoField(proc, fd, lines, "ticks", refusal)),
                nanos(Reopen.fdinfoField(proc, fd, lines, "it_value", refusal), refusal),
                nanos(Reopen.fdinfoField(proc, fd, lines, "it_interval", refusal), refusal));
    }

    /** "(seconds, nanoseconds)" as fdinfo shows a time. */
    private static long nanos(String time, String refusal) {
        Matcher m = TIME.matcher(time);
        if (!m.matches()) {
            throw new HotcloneException(refusal + " whose fdinfo shows a time as '" + time + "', which hotclone does"
                    + " not read");
        }
        return Long.parseLong(m.group(1)) * NANOS + Long.parseLong(m.group(2));
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int made = (closeOnExec ? TFD_CLOEXEC : 0) | ((flags & O_NONBLOCK) != 0 ? TFD_NONBLOCK : 0);
        long got = remote.check("timerfd_create(" + clock + ") for fd " + fd, SYS_timerfd_create, clock, made);
        try (Arena arena = Arena.ofConfined()) {
            // A periodic timer that expired shows no time left: the kernel re-arms it when it is read.
            long value = valueNanos == 0 ? intervalNanos : valueNanos;
            if (value != 0 && (settimeFlags & TFD_TIMER_ABSTIME) != 0) {
                value += now(arena);
            }
            MemorySegment spec = arena.allocate(JAVA_LONG, 4);
            spec.setAtIndex(JAVA_LONG, 0, intervalNanos / NANOS);
            spec.setAtIndex(JAVA_LONG, 1, intervalNanos % NANOS);
            spec.setAtIndex(JAVA_LONG, 2, value / NANOS);
            spec.setAtIndex(JAVA_LONG, 3, value % NANOS);
            remote.check("timerfd_settime for fd " + fd, SYS_timerfd_settime, got, value != 0 ? settimeFlags : 0,
                    remote.put(0, spec), 0);
            if (ticks != 0) {
                remote.check("ioctl(TFD_IOC_SET_TICKS, " + ticks + ") for fd " + fd + " (the kernel needs"
                        + " CONFIG_CHECKPOINT_RESTORE)", SYS_ioctl, got, TFD_IOC_SET_TICKS,
                        remote.put(0, arena.allocateFrom(JAVA_LONG, ticks)));
            }
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }

    /** The timer's clock now, in nanoseconds, as hotclone reads it. */
    private long now(Arena arena) {
        MemorySegment cs = arena.allocate(Libc.callStateLayout());
        MemorySegment ts = arena.allocate(JAVA_LONG, 2);
        if (Libc.syscall(cs, SYS_clock_gettime, clock, ts.address(), 0, 0, 0, 0) != 0) {
            throw new HotcloneException("cannot restore fd " + fd + ": clock " + clock + " of its timerfd cannot be"
                    + " read on this node (errno " + Libc.errno(cs) + ")");
        }
        return ts.getAtIndex(JAVA_LONG, 0) * NANOS + ts.getAtIndex(JAVA_LONG, 1);
    }
}
