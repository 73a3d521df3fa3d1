package io.hotclone.process.net;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.unix_diag_msg;
import io.hotclone.bindings.linux.unix_diag_req;
import io.hotclone.bindings.linux.unix_diag_rqlen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.hotclone.bindings.linux.Errno.ENOENT;
import static io.hotclone.bindings.linux.Socket.AF_UNIX;
import static io.hotclone.bindings.linux.Socket.NLM_F_REQUEST;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_ICONS;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_NAME;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_PEER;
import static io.hotclone.bindings.linux.Socket.UDIAG_SHOW_RQLEN;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_ICONS;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_NAME;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_PEER;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_RQLEN;
import static io.hotclone.bindings.linux.Socket.UNIX_DIAG_SHUTDOWN;
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
            MemorySegment req = unix_diag_req.allocate(arena);
            unix_diag_req.sdiag_family(req, (byte) AF_UNIX);
            unix_diag_req.udiag_states(req, -1);
            unix_diag_req.udiag_ino(req, (int) inode);
            unix_diag_req.udiag_show(req, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
            unix_diag_req.udiag_cookie(req).fill((byte) NO_COOKIE);
            List<Socket> found = new ArrayList<>();
            int error = SockDiag.ask(req, NLM_F_REQUEST, "Unix socket inode " + inode, m -> found.add(parse(m, inode)));
            if (error == ENOENT) {
                return Optional.empty();
            }
            if (error != 0) {
                throw new SyscallException("sock_diag of Unix socket inode " + inode, error);
            }
            return found.stream().findFirst();
        }
    }

    private static Socket parse(MemorySegment msg, long inode) {
        int type = Byte.toUnsignedInt(unix_diag_msg.udiag_type(msg));
        int state = Byte.toUnsignedInt(unix_diag_msg.udiag_state(msg));
        Attributes a = new Attributes();
        SockDiag.attributes(msg, unix_diag_msg.sizeof(), (kind, payload) -> {
            switch (kind) {
                case UNIX_DIAG_NAME -> a.name = payload.toArray(JAVA_BYTE);
                case UNIX_DIAG_PEER -> a.peer = Integer.toUnsignedLong(payload.get(JAVA_INT, 0));
                case UNIX_DIAG_ICONS -> a.waiting = (int) (payload.byteSize() / Integer.BYTES);
                case UNIX_DIAG_RQLEN -> {
                    a.queued = unix_diag_rqlen.udiag_rqueue(payload);
                    a.backlog = unix_diag_rqlen.udiag_wqueue(payload);
                }
                case UNIX_DIAG_SHUTDOWN -> a.shutdown = Byte.toUnsignedInt(payload.get(JAVA_BYTE, 0));
                default -> {
                }
            }
        });
        return new Socket(inode, type, state, a.name, a.peer, a.waiting, a.queued, a.backlog, a.shutdown);
    }

    /** What the attributes of one answer say, as they are read. */
    private static final class Attributes {
        byte[] name = new byte[0];
        long peer;
        int waiting;
        int queued;
        int backlog;
        int shutdown;
    }
}
