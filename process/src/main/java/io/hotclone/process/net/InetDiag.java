package io.hotclone.process.net;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.inet_diag_msg;
import io.hotclone.bindings.linux.inet_diag_req_v2;
import io.hotclone.bindings.linux.inet_diag_sockid;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.hotclone.bindings.linux.Socket.AF_INET;
import static io.hotclone.bindings.linux.Socket.AF_INET6;
import static io.hotclone.bindings.linux.Socket.IPPROTO_TCP;
import static io.hotclone.bindings.linux.Socket.IPPROTO_UDP;
import static io.hotclone.bindings.linux.Socket.NLM_F_DUMP;
import static io.hotclone.bindings.linux.Socket.NLM_F_REQUEST;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * What the kernel tells of a TCP or UDP socket (IPv4 or IPv6) by its inode through
 * sock_diag(7): its addresses, its state, its queues, a listening socket's backlog.
 */
public final class InetDiag {
    private static final int[] FAMILIES = {AF_INET, AF_INET6};
    private static final int[] PROTOCOLS = {IPPROTO_TCP, IPPROTO_UDP};

    /**
     * One TCP or UDP socket.
     *
     * @param family      AF_INET or AF_INET6
     * @param protocol    IPPROTO_TCP or IPPROTO_UDP
     * @param state       its TCP state (TCP_LISTEN, TCP_ESTABLISHED ...; TCP_CLOSE for an unconnected UDP socket)
     * @param local       its local address (4 or 16 bytes)
     * @param localPort   its local port, 0 if unbound
     * @param remote      its peer's address, zeros if none
     * @param remotePort  its peer's port, 0 if none
     * @param queued      bytes queued to be read; a listening socket's: connections waiting to be accepted
     * @param backlog     a listening socket's backlog; else bytes sent and not yet acknowledged
     */
    public record Socket(long inode, int family, int protocol, int state, byte[] local, int localPort, byte[] remote,
                         int remotePort, int queued, int backlog) {
    }

    private InetDiag() {
    }

    /** The TCP or UDP socket of {@code inode}, empty if none has it (another kind of socket). */
    public static Optional<Socket> of(long inode) {
        for (int protocol : PROTOCOLS) {
            for (int family : FAMILIES) {
                Optional<Socket> found = find(family, protocol, inode);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Socket> find(int family, int protocol, long inode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = inet_diag_req_v2.allocate(arena);
            inet_diag_req_v2.sdiag_family(req, (byte) family);
            inet_diag_req_v2.sdiag_protocol(req, (byte) protocol);
            inet_diag_req_v2.idiag_states(req, -1);
            List<Socket> found = new ArrayList<>();
            int error = SockDiag.ask(req, NLM_F_REQUEST | NLM_F_DUMP, "inode " + inode, m -> {
                if (Integer.toUnsignedLong(inet_diag_msg.idiag_inode(m)) != inode) {
                    return false;
                }
                found.add(parse(m, inode, protocol));
                return true;
            });
            if (error != 0) {
                throw new SyscallException("sock_diag of " + (protocol == IPPROTO_TCP ? "TCP" : "UDP") + " sockets", error);
            }
            return found.stream().findFirst();
        }
    }

    private static Socket parse(MemorySegment m, long inode, int protocol) {
        int family = Byte.toUnsignedInt(inet_diag_msg.idiag_family(m));
        MemorySegment id = inet_diag_msg.id(m);
        int size = family == AF_INET ? 4 : 16;
        return new Socket(inode, family, protocol, Byte.toUnsignedInt(inet_diag_msg.idiag_state(m)),
                inet_diag_sockid.idiag_src(id).asSlice(0, size).toArray(JAVA_BYTE), port(id, inet_diag_sockid.idiag_sport$offset()),
                inet_diag_sockid.idiag_dst(id).asSlice(0, size).toArray(JAVA_BYTE), port(id, inet_diag_sockid.idiag_dport$offset()),
                inet_diag_msg.idiag_rqueue(m), inet_diag_msg.idiag_wqueue(m));
    }

    private static int port(MemorySegment id, long offset) {
        return Short.toUnsignedInt(id.get(JAVA_SHORT_UNALIGNED.withOrder(BIG_ENDIAN), offset));
    }
}
