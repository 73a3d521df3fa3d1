package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.Descriptors;
import io.hotclone.process.net.UnixDiag;
import io.hotclone.process.net.UnixQueue;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.OptionalLong;

import static io.hotclone.bindings.linux.Errno.ECONNREFUSED;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Socket.AF_UNIX;
import static io.hotclone.bindings.linux.Socket.SHUT_RD;
import static io.hotclone.bindings.linux.Socket.SOCK_CLOEXEC;
import static io.hotclone.bindings.linux.Socket.SOCK_NONBLOCK;
import static io.hotclone.bindings.linux.Socket.SHUT_RDWR;
import static io.hotclone.bindings.linux.Socket.SHUT_WR;
import static io.hotclone.bindings.linux.Socket.SOCK_DGRAM;
import static io.hotclone.bindings.linux.Socket.SOCK_SEQPACKET;
import static io.hotclone.bindings.linux.Socket.SOCK_STREAM;
import static io.hotclone.bindings.linux.Socket.TCP_ESTABLISHED;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_bind;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_connect;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_listen;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_shutdown;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_socket;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_socketpair;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A Unix socket (unix(7)) of one of three shapes: a listening socket, bound to its name, with
 * its backlog (connections waiting to be accepted are left out: their clients find them reset); one end of a connected pair whose other end the process holds too (a
 * socketpair), with what is queued on it; or a socket neither listening nor connected, bound to
 * its name if it had one. A pair is made again by socketpair(2) when the end with the lower
 * descriptor is restored; the other end takes it from the {@link Parking}. Each end's queue
 * goes back by being sent from the other end, and shutdowns come last.
 *
 * @param type      SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
 * @param inode     its inode
 * @param name      the address it is bound to (sun_path: a path, or a NUL and an abstract name), empty if none
 * @param listening whether it listens (then with {@code backlog})
 * @param peer      the inode of its peer, 0 if not connected
 * @param peerFd    the peer's descriptor in the process, -1 if not connected or held by another process of the program
 * @param queued    what is queued to be read on it: a stream's bytes, or each datagram or packet
 * @param shutdown  the kernel's shutdown bits (1: no more receiving, 2: no more sending)
 */
@Tag(value = 17, version = 1, name = "unix-socket-fd")
public record UnixSocketFd(int fd, int flags, boolean closeOnExec, int type, long inode, byte[] name, boolean listening,
                           int backlog, long peer, int peerFd, List<byte[]> queued, int shutdown) implements FdState {

    /** The kernel's shutdown bit for a socket that receives no more. */
    private static final int RCV_SHUTDOWN = 1;

    /** The state of {@code fd}, or null when it is not a Unix socket; refuses one it cannot restore as it is. */
    static UnixSocketFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        OptionalLong socket = Reopen.socketInode(target);
        if (socket.isEmpty()) {
            return null;
        }
        long inode = socket.getAsLong();
        UnixDiag.Socket s = UnixDiag.of(inode).orElse(null);
        if (s == null) {
            return null;
        }
        String what = "fd " + fd + " of process " + proc.pid() + ", a Unix " + typeName(s.type()) + " socket (" + target
                + (s.name().length > 0 ? " bound to " + printable(s.name()) : "") + ")";
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is a Unix " + typeName(s.type())
                + " socket (" + target + ")";
        int flags = Reopen.anonymousFlags(refusal, info);
        boolean closeOnExec = (info.flags() & O_CLOEXEC) != 0;
        if (s.type() != SOCK_STREAM && s.type() != SOCK_DGRAM && s.type() != SOCK_SEQPACKET) {
            throw new HotcloneException(refusal + " of type " + s.type() + ", which hotclone does not know");
        }
        if (s.state() == UnixDiag.LISTEN) {
            return new UnixSocketFd(fd, flags, closeOnExec, s.type(), inode, s.name(), true, s.backlog(), 0, -1, List.of(),
                    s.shutdown());
        }
        if (s.peer() != 0) {
            // The peer is another process's when this one does not hold it (refuseUnpaired checks the program does).
            String peerTarget = "socket:[" + s.peer() + "]";
            int peerFd = proc.fds().stream().filter(other -> proc.link("fd/" + other).equals(peerTarget)).findFirst()
                    .orElse(-1);
            if (s.name().length > 0) {
                throw new HotcloneException(refusal + " bound to " + printable(s.name()) + " and connected (accepted"
                        + " from a listening socket of its own), which hotclone cannot restore yet");
            }
            return new UnixSocketFd(fd, flags, closeOnExec, s.type(), inode, s.name(), false, 0, s.peer(), peerFd,
                    queued(proc.pid(), fd, s, what), s.shutdown());
        }
        if (s.state() == TCP_ESTABLISHED || s.shutdown() != 0) {
            throw new HotcloneException(refusal + " connected to a socket that has no descriptor (a connection a"
                    + " listening socket has not accepted yet, or a peer that closed its end), which hotclone cannot"
                    + " restore yet");
        }
        if (s.queued() > 0) {
            throw new HotcloneException(refusal + " with datagrams queued from senders outside the process, which"
                    + " hotclone cannot restore yet");
        }
        return new UnixSocketFd(fd, flags, closeOnExec, s.type(), inode, s.name(), false, 0, 0, -1, List.of(),
                s.shutdown());
    }

    private static List<byte[]> queued(int pid, int fd, UnixDiag.Socket s, String what) {
        int local = Descriptors.copyOf(pid, fd);
        try {
            return UnixQueue.peek(local, s.type(), s.queued(), (s.shutdown() & RCV_SHUTDOWN) != 0, what);
        } finally {
            Descriptors.close(local);
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case SOCK_STREAM -> "stream";
            case SOCK_DGRAM -> "datagram";
            case SOCK_SEQPACKET -> "seqpacket";
            default -> "type-" + type;
        };
    }

    /** A sun_path as people write it: a path, or @ and an abstract name. */
    private static String printable(byte[] name) {
        if (name.length > 0 && name[0] == 0) {
            return "@" + new String(name, 1, name.length - 1, StandardCharsets.UTF_8);
        }
        int end = name.length;
        while (end > 0 && name[end - 1] == 0) {
            end--;
        }
        return new String(name, 0, end, StandardCharsets.UTF_8);
    }

    /**
     * Refuses a Unix socket connected to one no process of the program ({@code program}: each
     * process's descriptors, by its pid here) holds: another program's, or a server's.
     */
    static void refuseUnpaired(Map<Integer, List<FdState>> program) {
        Set<Long> held = new HashSet<>();
        program.values().forEach(fds -> fds.stream().filter(f -> f instanceof UnixSocketFd)
                .forEach(f -> held.add(((UnixSocketFd) f).inode())));
        program.forEach((pid, fds) -> fds.stream().filter(f -> f instanceof UnixSocketFd u && u.peer() != 0
                && !held.contains(u.peer())).findFirst().ifPresent(f -> {
                    throw new HotcloneException("cannot checkpoint process " + pid + ": fd " + f.fd() + " is a Unix "
                            + typeName(((UnixSocketFd) f).type()) + " socket connected to socket:["
                            + ((UnixSocketFd) f).peer() + "], which no process of the program holds (another program's"
                            + " socket, or a server's): hotclone restores Unix sockets connected within the program"
                            + " yet");
                }));
    }

    /** Within a process, the end of a pair with the lower number makes it; the other takes its end after. */
    @Override
    public int order() {
        return peer != 0 && peerFd >= 0 && fd > peerFd ? 1 : 0;
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        int pid = remote.tracee().tid();
        long got;
        if (peer != 0) {
            // The end made with this one, by this process or another of the program's, if it came first.
            got = parking.take("socket:[" + inode + "]").orElseGet(() -> {
                int[] ends = Reopen.pair(remote, "socketpair(AF_UNIX, " + typeName(type) + ") for fd " + fd,
                        SYS_socketpair, at -> new long[] {AF_UNIX, type, 0, at});
                fill(pid, ends[1]);
                parking.exchange().socket(peer).ifPresent(other -> other.fill(pid, ends[0]));
                parking.park("socket:[" + peer + "]", ends[1], "the other end of the socketpair of fd " + fd);
                return ends[0];
            });
        } else {
            got = remote.check("socket(AF_UNIX, " + typeName(type) + ") for fd " + fd, SYS_socket, AF_UNIX, type, 0);
            if (name.length > 0) {
                bind(remote, got);
            }
            if (listening) {
                remote.check("listen(" + backlog + ") for fd " + fd, SYS_listen, got, backlog);
            }
        }
        if ((flags & O_NONBLOCK) != 0) {
            remote.check("fcntl(F_SETFL, O_NONBLOCK) for fd " + fd, SYS_fcntl, got, F_SETFL, O_NONBLOCK);
        }
        Reopen.move(remote, got, fd, closeOnExec);
        if (shutdown != 0) {
            int how = shutdown == 3 ? SHUT_RDWR : shutdown == 1 ? SHUT_RD : SHUT_WR;
            parking.atEnd(() -> remote.check("shutdown(" + how + ") for fd " + fd, SYS_shutdown, fd, how));
        }
    }

    /** Queues this end's bytes again, sending them from its peer {@code from} (a descriptor of the restored process {@code pid}). */
    private void fill(int pid, int from) {
        if (queued.isEmpty()) {
            return;
        }
        int local = Descriptors.copyOf(pid, from);
        try {
            UnixQueue.send(local, queued, "refilling the queue of fd " + fd);
        } finally {
            Descriptors.close(local);
        }
    }

    /** Binds {@code got} to the saved name; a stale socket file of the program's own is removed first. */
    private void bind(RemoteSyscalls remote, long got) {
        if (name[0] != 0) {
            removeStale(Path.of(printable(name)));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = sockaddr(arena, name);
            remote.check("bind(" + printable(name) + ") for fd " + fd + " (another socket may be bound to it: stop"
                    + " what listens there)", SYS_bind, got, remote.put(0, address), address.byteSize());
        }
    }

    /**
     * Connects a socket of hotclone's of {@code type} to {@code name}; 0 if something took it,
     * else the errno (ECONNREFUSED: nothing is bound there any more).
     */
    private static int probe(byte[] name, int type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            long socket = Libc.syscall(cs, SYS_socket, AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, 0, 0, 0);
            if (socket < 0) {
                throw new SyscallException("socket(AF_UNIX) to probe a socket file", Libc.errno(cs));
            }
            try {
                MemorySegment address = sockaddr(arena, name);
                return Libc.syscall(cs, SYS_connect, socket, address.address(), address.byteSize(), 0, 0, 0) == 0
                        ? 0 : Libc.errno(cs);
            } finally {
                Descriptors.close((int) socket);
            }
        }
    }

    private static MemorySegment sockaddr(Arena arena, byte[] name) {
        MemorySegment address = arena.allocate(2L + name.length);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(MemorySegment.ofArray(name), 0, address, 2, name.length);
        return address;
    }

    /**
     * Removes the socket file at {@code path} if nothing is bound to it any more (the program's
     * own, left by the run that ended); refuses, naming it, one something is bound to.
     */
    private void removeStale(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther()) {
                throw new HotcloneException("cannot restore fd " + fd + ": " + path + ", where its socket was bound,"
                        + " is now another kind of file: remove or move it");
            }
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new HotcloneException("cannot restore fd " + fd + ": " + path + " cannot be read (" + e + ")", e);
        }
        int errno = probe(name, type);
        if (errno == 0) {
            throw new HotcloneException("cannot restore fd " + fd + ": another socket is bound to " + path
                    + ", where the program's was: stop what uses it, or restore the program elsewhere");
        }
        if (errno != ECONNREFUSED) {
            throw new HotcloneException("cannot restore fd " + fd + ": " + path + ", where its socket was bound,"
                    + " holds a socket hotclone cannot tell stale (connecting to it: " + Errno.name(errno)
                    + "): remove it if nothing uses it");
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new HotcloneException("cannot restore fd " + fd + ": the stale socket file " + path
                    + " cannot be removed (" + e + ")", e);
        }
    }
}
