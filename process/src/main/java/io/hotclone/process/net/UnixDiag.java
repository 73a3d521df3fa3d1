package io.hotclone.process.net;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.nlattr;
import io.hotclone.bindings.linux.nlmsghdr;
import io.hotclone.bindings.linux.unix_diag_msg;
import io.hotclone.bindings.linux.unix_diag_req;
import io.hotclone.bindings.linux.unix_diag_rqlen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

import static io.hotclone.bindings.linux.Errno.ENOENT;
import static io.hotclone.bindings.linux.Socket.AF_NETLINK;
import static io.hotclone.bindings.linux.Socket.AF_UNIX;
import static io.hotclone.bindings.linux.Socket.NETLINK_SOCK_DIAG;
import static io.hotclone.bindings.linux.Socket.NLMSG_ERROR;
import static io.hotclone.bindings.linux.Socket.NLM_F_REQUEST;
import static io.hotclone.bindings.linux.Socket.SOCK_CLOEXEC;
import static io.hotclone.bindings.linux.Socket.SOCK_DGRAM;
import static io.hotclone.bindings.linux.Socket.SOCK_DIAG_BY_FAMILY;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_ICONS;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_NAME;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_PEER;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_RQLEN;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_ICONS;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_NAME;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_PEER;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_RQLEN;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_SHUTDOWN;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_recvfrom;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sendto;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_socket;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What the kernel tells of a Unix socket by its inode through sock_diag(7) (what {@code ss -x}
 * shows): its type and state, its name, its peer, its queues, its shutdown. /proc shows none
 * of the peers, which tie the two ends of a socketpair together.
 */
public final class UnixDiag {
    /** The kernel's TCP_LISTEN, the state of a listening Unix socket. */
    public static final int LISTEN = 10;
    private static final int REPLY_BYTES = 8192;
    private static final long NO_COOKIE = -1;

    /**
     * One Unix socket.
     *
     * @param type      SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
     * @param state     its state (LISTEN, or TCP_ESTABLISHED and TCP_CLOSE as the kernel reuses them)
     * @param name      the address it is bound to (a path, or a leading NUL and an abstract name), empty if none
     * @param peer      its peer's inode, 0 if none
     * @param waiting   connections waiting to be accepted (a listening socket)
     * @param queued    bytes queued to be read (a datagram socket: the first datagram's); a listening
     *                  socket's: the connections waiting
     * @param backlog   a listening socket's backlog, else the bytes it sent that its peer holds
     * @param shutdown  the kernel's shutdown bits (1: no more receiving, 2: no more sending)
     */
    public record Socket(long inode, int type, int state, byte[] name, long peer, int waiting, int queued, int backlog,
                         int shutdown) {
    }

    private UnixDiag() {
    }

    /** The Unix socket of {@code inode}, empty if no Unix socket has it (another kind of socket). */
    public static Optional<Socket> of(long inode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            int fd = (int) check(Libc.syscall(cs, SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG, 0, 0,
                    0), cs, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
            try {
                MemorySegment request = arena.allocate(nlmsghdr.sizeof() + unix_diag_req.sizeof(), 8);
                nlmsghdr.nlmsg_len(request, (int) request.byteSize());
                nlmsghdr.nlmsg_type(request, (short) SOCK_DIAG_BY_FAMILY);
                nlmsghdr.nlmsg_flags(request, (short) NLM_F_REQUEST);
                MemorySegment req = request.asSlice(nlmsghdr.sizeof());
                unix_diag_req.sdiag_family(req, (byte) AF_UNIX);
                unix_diag_req.udiag_states(req, -1);
                unix_diag_req.udiag_ino(req, (int) inode);
                unix_diag_req.udiag_show(req, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
                unix_diag_req.udiag_cookie(req).fill((byte) NO_COOKIE);
                check(Libc.syscall(cs, SYS_sendto, fd, request.address(), request.byteSize(), 0, 0, 0), cs,
                        "sendto(sock_diag, inode " + inode + ")");
                MemorySegment reply = arena.allocate(REPLY_BYTES, 8);
                long got = check(Libc.syscall(cs, SYS_recvfrom, fd, reply.address(), REPLY_BYTES, 0, 0, 0), cs,
                        "recvfrom(sock_diag, inode " + inode + ")");
                return parse(reply.asSlice(0, got), inode);
            } finally {
                Libc.syscall(cs, SYS_close, fd, 0, 0, 0, 0, 0);
            }
        }
    }

    private static Optional<Socket> parse(MemorySegment reply, long inode) {
        if (nlmsghdr.nlmsg_type(reply) == NLMSG_ERROR) {
            int error = -reply.get(JAVA_INT, nlmsghdr.sizeof());
            if (error == ENOENT) {
                return Optional.empty();
            }
            throw new SyscallException("sock_diag of Unix socket inode " + inode, error);
        }
        MemorySegment msg = reply.asSlice(nlmsghdr.sizeof());
        int type = Byte.toUnsignedInt(unix_diag_msg.udiag_type(msg));
        int state = Byte.toUnsignedInt(unix_diag_msg.udiag_state(msg));
        byte[] name = new byte[0];
        long peer = 0;
        int waiting = 0;
        int queued = 0;
        int backlog = 0;
        int shutdown = 0;
        long end = Math.min(reply.byteSize(), Integer.toUnsignedLong(nlmsghdr.nlmsg_len(reply)));
        for (long at = nlmsghdr.sizeof() + unix_diag_msg.sizeof(); at + nlattr.sizeof() <= end; ) {
            MemorySegment attr = reply.asSlice(at);
            int length = Short.toUnsignedInt(nlattr.nla_len(attr));
            if (length < nlattr.sizeof() || at + length > end) {
                break;
            }
            MemorySegment payload = reply.asSlice(at + nlattr.sizeof(), length - nlattr.sizeof());
            switch (nlattr.nla_type(attr)) {
                case UNIX_DIAG_NAME -> name = payload.toArray(JAVA_BYTE);
                case UNIX_DIAG_PEER -> peer = Integer.toUnsignedLong(payload.get(JAVA_INT, 0));
                case UNIX_DIAG_ICONS -> waiting = (int) (payload.byteSize() / Integer.BYTES);
                case UNIX_DIAG_RQLEN -> {
                    queued = unix_diag_rqlen.udiag_rqueue(payload);
                    backlog = unix_diag_rqlen.udiag_wqueue(payload);
                }
                case UNIX_DIAG_SHUTDOWN -> shutdown = Byte.toUnsignedInt(payload.get(JAVA_BYTE, 0));
                default -> {
                }
            }
            at += (length + 3) & ~3;
        }
        return Optional.of(new Socket(inode, type, state, name, peer, waiting, queued, backlog, shutdown));
    }

    private static long check(long result, MemorySegment cs, String what) {
        if (result < 0) {
            throw new SyscallException(what, Libc.errno(cs));
        }
        return result;
    }
}
