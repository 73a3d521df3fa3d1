package io.hotclone.image;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.hotclone.bindings.linux.Fcntl.FIONREAD;
import static io.hotclone.bindings.linux.Fcntl.F_GETPIPE_SZ;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.F_SETPIPE_SZ;
import static io.hotclone.bindings.linux.Fcntl.O_ACCMODE;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_LARGEFILE;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Fcntl.O_WRONLY;
import static io.hotclone.bindings.linux.Fcntl.SPLICE_F_NONBLOCK;
import static io.hotclone.bindings.linux.Kcmp.KCMP_FILE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pipe2;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_tee;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One end of a pipe whose two ends the program holds (one process or two): made again as a pipe
 * of the same capacity, holding the bytes that were queued in it. The read end carries the
 * pipe's capacity and bytes. The first end restored makes the pipe (within a process, the read
 * end); the other end then takes the end it parked, from the {@link Parking}, in the same
 * process or through the {@link FdExchange} in another.
 *
 * @param pipe     the pipe's inode, which both ends' records name
 * @param readEnd  whether this is the end the bytes are read from
 * @param capacity the pipe's buffer size (F_GETPIPE_SZ), on the read end; 0 on the write end
 * @param data     the bytes queued in the pipe, unread, on the read end; empty on the write end
 */
@Tag(value = 14, version = 1, name = "pipe-fd")
public record PipeFd(int fd, int flags, boolean closeOnExec, long pipe, boolean readEnd, int capacity, byte[] data)
        implements FdState {

    /** The state of {@code fd}, or null when it is not a pipe; refuses one it cannot restore as it is. */
    static PipeFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        if (!target.startsWith("pipe:[")) {
            return null;
        }
        long pipe = Long.parseLong(target.substring("pipe:[".length(), target.length() - 1));
        boolean readEnd = (info.flags() & O_ACCMODE) == O_RDONLY;
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is the " + end(readEnd) + " of a pipe"
                + " (" + target + ")";
        int flags = info.flags() & ~(O_CLOEXEC | O_LARGEFILE);
        if ((flags & ~O_NONBLOCK) != (readEnd ? O_RDONLY : O_WRONLY)) {
            throw new HotcloneException(refusal + " with open flags 0" + Integer.toOctalString(flags)
                    + ", which hotclone cannot restore yet (it restores O_NONBLOCK only: not O_DIRECT, O_ASYNC)");
        }
        for (int other : proc.fds()) {
            if (other == fd || !proc.link("fd/" + other).equals(target)) {
                continue;
            }
            boolean otherRead = (proc.fdInfo(other).flags() & O_ACCMODE) == O_RDONLY;
            if (otherRead == readEnd && !sameOpenFile(proc.pid(), fd, other)) {
                throw new HotcloneException(refusal + " that fd " + other + " opened again (through /proc, not dup):"
                        + " hotclone restores one open file per pipe end yet");
            }
        }
        if (!readEnd) {
            return new PipeFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, pipe, false, 0, new byte[0]);
        }
        Queued queued = queued(proc, fd, refusal);
        return new PipeFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, pipe, true, queued.capacity(), queued.data());
    }

    /**
     * Refuses a pipe of which the program ({@code program}: each process's descriptors, by its
     * pid here) holds one end only, or an end as two open files (those of one process are
     * refused when dumped).
     */
    static void refuseUnpaired(Map<Integer, List<FdState>> program) {
        Map<Long, Map<Boolean, String>> ends = new HashMap<>();
        program.forEach((pid, fds) -> fds.stream().filter(f -> f instanceof PipeFd).map(f -> (PipeFd) f).forEach(p -> {
            String holder = "fd " + p.fd() + " of process " + pid;
            String before = ends.computeIfAbsent(p.pipe(), x -> new HashMap<>()).putIfAbsent(p.readEnd(), holder);
            if (before != null) {
                throw new HotcloneException("cannot checkpoint the program: " + holder + " and " + before + " are the "
                        + end(p.readEnd()) + " of pipe:[" + p.pipe() + "] opened twice (through /proc, not inherited"
                        + " or dup): hotclone restores one open file per pipe end yet");
            }
        }));
        ends.forEach((pipe, held) -> {
            if (held.size() == 1) {
                boolean read = held.containsKey(true);
                throw new HotcloneException("cannot checkpoint the program: " + held.get(read) + " is the " + end(read)
                        + " of a pipe (pipe:[" + pipe + "]) whose " + end(!read) + " no process of the program holds:"
                        + " another process holds it, or it was closed; hotclone checkpoints pipes with both ends in"
                        + " the program yet");
            }
        });
    }

    private static String end(boolean readEnd) {
        return readEnd ? "read end" : "write end";
    }

    private static boolean sameOpenFile(int pid, int fd, int other) {
        try (Arena arena = Arena.ofConfined()) {
            return Libc.syscall(arena.allocate(Libc.callStateLayout()), SYS_kcmp, pid, pid, KCMP_FILE, fd, other, 0) == 0;
        }
    }

    /** A pipe's capacity and the bytes queued in it. */
    record Queued(int capacity, byte[] data) {
    }

    /**
     * The pipe's capacity and the bytes queued in it, left there: tee(2) copies them from a
     * new read end (opened through /proc) into a pipe of hotclone's, which they are read from.
     */
    static Queued queued(ProcFs proc, int fd, String refusal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            int source = Native.check(Libc.open(cs, arena.allocateFrom(proc.path("fd/" + fd).toString()), O_RDONLY | O_NONBLOCK
                    | O_CLOEXEC, 0), cs, refusal + ": open(/proc/" + proc.pid() + "/fd/" + fd + ")");
            MemorySegment pair = arena.allocate(JAVA_INT, 2);
            try {
                int capacity = Native.check(Libc.fcntl(cs, source, F_GETPIPE_SZ, 0), cs, refusal + ": F_GETPIPE_SZ");
                MemorySegment count = arena.allocate(JAVA_INT);
                Native.check(Libc.ioctl(cs, source, FIONREAD, count), cs, refusal + ": FIONREAD");
                int queued = count.get(JAVA_INT, 0);
                if (queued == 0) {
                    return new Queued(capacity, new byte[0]);
                }
                Native.check(Libc.pipe2(cs, pair, O_NONBLOCK | O_CLOEXEC), cs, refusal + ": pipe2");
                Native.check(Libc.fcntl(cs, pair.getAtIndex(JAVA_INT, 1), F_SETPIPE_SZ, capacity), cs,
                        refusal + ": F_SETPIPE_SZ " + capacity);
                long copied = Libc.syscall(cs, SYS_tee, source, pair.getAtIndex(JAVA_INT, 1), queued, SPLICE_F_NONBLOCK,
                        0, 0);
                if (copied < 0) {
                    throw new SyscallException(refusal + ": tee of the " + queued + " bytes queued in it", Libc.errno(cs));
                }
                if (copied != queued) {
                    throw new HotcloneException(refusal + ": tee copied " + copied + " of the " + queued
                            + " bytes queued in it");
                }
                MemorySegment bytes = arena.allocate(queued);
                long read = Libc.read(cs, pair.getAtIndex(JAVA_INT, 0), bytes, queued);
                if (read != queued) {
                    throw new HotcloneException(refusal + ": read " + read + " of the " + queued + " bytes tee copied");
                }
                return new Queued(capacity, bytes.toArray(JAVA_BYTE));
            } finally {
                Libc.close(cs, source);
                if (pair.getAtIndex(JAVA_INT, 0) > 0) {
                    Libc.close(cs, pair.getAtIndex(JAVA_INT, 0));
                    Libc.close(cs, pair.getAtIndex(JAVA_INT, 1));
                }
            }
        }
    }

    /** Read ends make their pipes, before the write ends that take the other end (and epolls, which may watch either). */
    @Override
    public int order() {
        return readEnd ? 0 : 1;
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        String what = "the pipe of fd " + fd;
        // The end made with the other, by this process or another of the program's, if it came first.
        long got = parking.take(key(readEnd)).orElseGet(() -> {
            PipeFd read = readEnd ? this : parking.exchange().readEnd(pipe).orElseThrow(() -> new HotcloneException(
                    "cannot restore fd " + fd + ": the image holds no read end of its pipe (pipe:[" + pipe + "])"));
            int[] ends = Reopen.pair(remote, "pipe2 for " + what, SYS_pipe2, at -> new long[] {at, 0});
            remote.check("fcntl(F_SETPIPE_SZ, " + read.capacity + ") for " + what, SYS_fcntl, ends[0], F_SETPIPE_SZ,
                    read.capacity);
            refill(remote, ends[1], read.data, fd);
            parking.park(key(!readEnd), ends[readEnd ? 1 : 0], "the " + end(!readEnd) + " of " + what);
            return ends[readEnd ? 0 : 1];
        });
        if ((flags & O_NONBLOCK) != 0) {
            remote.check("fcntl(F_SETFL, O_NONBLOCK) for fd " + fd, SYS_fcntl, got, F_SETFL, O_NONBLOCK);
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }

    /** What the end of this pipe that is not made first is parked under. */
    private String key(boolean read) {
        return "pipe:[" + pipe + "]:" + (read ? "r" : "w");
    }

    /**
     * Puts {@code data} back in a pipe (or FIFO) of fd {@code fd} through {@code write}, a
     * descriptor open for writing to it, from hotclone (through /proc).
     */
    static void refill(RemoteSyscalls remote, long write, byte[] data, int fd) {
        if (data.length == 0) {
            return;
        }
        String path = "/proc/" + remote.tracee().tid() + "/fd/" + write;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            int fill = Native.check(Libc.open(cs, arena.allocateFrom(path), O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0), cs,
                    "open(" + path + ") to refill the pipe of fd " + fd);
            try {
                long wrote = Libc.write(cs, fill, arena.allocateFrom(JAVA_BYTE, data),
                        data.length);
                if (wrote != data.length) {
                    throw new HotcloneException("cannot restore fd " + fd + ": " + wrote + " of the " + data.length
                            + " bytes queued in its pipe went back in");
                }
            } finally {
                Libc.close(cs, fill);
            }
        }
    }
}
