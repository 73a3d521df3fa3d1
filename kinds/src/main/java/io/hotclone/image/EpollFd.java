package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.hotclone.bindings.linux.Epoll.EPOLL_CLOEXEC;
import static io.hotclone.bindings.linux.Epoll.EPOLL_CTL_ADD;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_epoll_create1;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_epoll_ctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An epoll instance (epoll(7)): made again with its interest list, once the descriptors it
 * watches are back. Readiness is not saved: the kernel finds it again as each one is added (a
 * ready descriptor is reported at once, edge-triggered ones included).
 *
 * @param targets what it watches, in the order the kernel lists them
 */
@Tag(value = 12, version = 1, name = "epoll-fd")
public record EpollFd(int fd, int flags, boolean closeOnExec, List<Target> targets) implements FdState {
    private static final String TARGET = "anon_inode:[eventpoll]";
    /** One line of an epoll's fdinfo: "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x". */
    private static final Pattern WATCHED = Pattern.compile(
            "tfd:\\s*(\\d+)\\s+events:\\s*([0-9a-f]+)\\s+data:\\s*([0-9a-f]+)\\s+pos:\\s*\\d+\\s+ino:\\s*([0-9a-f]+)");
    /** struct epoll_event is packed on x86_64: the events, then the 64-bit data. */
    private static final int EVENT_SIZE = 12;

    /**
     * One descriptor of the interest list.
     *
     * @param fd     its number in the program
     * @param events the events asked for, with the flags (EPOLLET, EPOLLONESHOT ...) as set
     * @param data   what epoll_wait hands back with them
     */
    public record Target(int fd, int events, long data) {
    }

    /** The state of {@code fd}, or null when it is not an epoll; refuses one it cannot restore as it is. */
    static EpollFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.equals(TARGET)) {
            return null;
        }
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is an epoll";
        int flags = Reopen.anonymousFlags(refusal, info);
        List<Target> targets = new ArrayList<>();
        for (String line : proc.lines("fdinfo/" + fd)) {
            Matcher m = WATCHED.matcher(line.strip());
            if (!m.lookingAt()) {
                continue;
            }
            int watched = Integer.parseInt(m.group(1));
            long inode = Long.parseUnsignedLong(m.group(4), 16);
            if (!proc.fds().contains(watched) || inode(proc, watched) != inode) {
                throw new HotcloneException(refusal + " watching a file that fd " + watched + " no longer is (it was"
                        + " closed or replaced after epoll_ctl added it): hotclone could not add it again");
            }
            targets.add(new Target(watched, (int) Long.parseLong(m.group(2), 16), Long.parseUnsignedLong(m.group(3), 16)));
        }
        return new EpollFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, List.copyOf(targets));
    }

    private static long inode(ProcFs proc, int fd) {
        try {
            return ((Number) Files.getAttribute(proc.path("fd/" + fd), "unix:ino")).longValue();
        } catch (IOException e) {
            throw new HotcloneException("cannot checkpoint process " + proc.pid() + ": /proc/" + proc.pid() + "/fd/" + fd
                    + " cannot be read (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public int order() {
        return 3;
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        long got = remote.check("epoll_create1 for fd " + fd, SYS_epoll_create1, closeOnExec ? EPOLL_CLOEXEC : 0);
        if ((flags & O_NONBLOCK) != 0) {
            remote.check("fcntl(" + got + ", F_SETFL, O_NONBLOCK) for the epoll of fd " + fd, SYS_fcntl, got, F_SETFL,
                    O_NONBLOCK);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EVENT_SIZE);
            for (Target t : targets) {
                event.set(JAVA_INT_UNALIGNED, 0, t.events());
                event.set(JAVA_LONG_UNALIGNED, 4, t.data());
                remote.check("epoll_ctl(EPOLL_CTL_ADD, " + t.fd() + ", events 0x" + Integer.toHexString(t.events())
                        + ") for the epoll of fd " + fd, SYS_epoll_ctl, got, EPOLL_CTL_ADD, t.fd(), remote.put(0, event));
            }
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }
}
