package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.process.Descriptors;
import io.hotclone.process.net.InetDiag;
import io.hotclone.process.net.SocketOptions;
import io.hotclone.process.proc.FdInfo;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.OptionalLong;

import static io.hotclone.bindings.linux.Errno.EADDRINUSE;
import static io.hotclone.bindings.linux.Errno.EADDRNOTAVAIL;
import static io.hotclone.bindings.linux.Fcntl.F_SETFL;
import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_NONBLOCK;
import static io.hotclone.bindings.linux.Socket.AF_INET;
import static io.hotclone.bindings.linux.Socket.IPPROTO_IPV6;
import static io.hotclone.bindings.linux.Socket.IPPROTO_TCP;
import static io.hotclone.bindings.linux.Socket.IPV6_V6ONLY;
import static io.hotclone.bindings.linux.Socket.SOCK_DGRAM;
import static io.hotclone.bindings.linux.Socket.SOCK_STREAM;
import static io.hotclone.bindings.linux.Socket.SOL_SOCKET;
import static io.hotclone.bindings.linux.Socket.SO_KEEPALIVE;
import static io.hotclone.bindings.linux.Socket.SO_REUSEADDR;
import static io.hotclone.bindings.linux.Socket.SO_REUSEPORT;
import static io.hotclone.bindings.linux.Socket.TCP_CLOSE;
import static io.hotclone.bindings.linux.Socket.TCP_ESTABLISHED;
import static io.hotclone.bindings.linux.Socket.TCP_LISTEN;
import static io.hotclone.bindings.linux.Socket.TCP_NODELAY;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_bind;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_connect;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_fcntl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_listen;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setsockopt;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_socket;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * A TCP or UDP socket, IPv4 or IPv6, that holds no connection: a listening TCP socket with its
 * address, port, backlog and options; a TCP socket not yet listening or connected; a UDP socket,
 * bound or not, connected to a peer or not. Made again with socket(2), its options, bind(2) to
 * the same address and port, listen(2) or connect(2). A port taken where it is restored is named.
 * Connections waiting to be accepted are left out: the program never held them (the kernel
 * queues them while it is frozen, too), and their clients are reset where it is restored, and
 * connect again. Established TCP connections are refused.
 *
 * @param family      AF_INET or AF_INET6
 * @param type        SOCK_STREAM (TCP) or SOCK_DGRAM (UDP)
 * @param address     the local address it is bound to (4 or 16 bytes; zeros: any)
 * @param port        the local port, 0 if it is not bound
 * @param listening   whether it listens (TCP), with {@code backlog}
 * @param peer        a connected UDP socket's peer address, empty if none
 * @param peerPort    a connected UDP socket's peer port, 0 if none
 * @param reuseAddress SO_REUSEADDR
 * @param reusePort    SO_REUSEPORT
 * @param v6Only       IPV6_V6ONLY (an IPv6 socket that takes no IPv4)
 * @param noDelay      TCP_NODELAY (inherited by the connections a listening socket accepts)
 * @param keepAlive    SO_KEEPALIVE
 */
@Tag(value = 18, version = 1, name = "inet-socket-fd")
public record InetSocketFd(int fd, int flags, boolean closeOnExec, int family, int type, long inode, byte[] address,
                           int port, boolean listening, int backlog, byte[] peer, int peerPort, boolean reuseAddress,
                           boolean reusePort, boolean v6Only, boolean noDelay, boolean keepAlive) implements FdState {

    /** The state of {@code fd}, or null when it is not a TCP or UDP socket; refuses one it cannot restore as it is. */
    static InetSocketFd dump(ProcFs proc, int fd, String target, FdInfo info) {
        OptionalLong socket = Reopen.socketInode(target);
        if (socket.isEmpty()) {
            return null;
        }
        long inode = socket.getAsLong();
        InetDiag.Socket s = InetDiag.of(inode).orElse(null);
        if (s == null) {
            return null;
        }
        boolean tcp = s.protocol() == IPPROTO_TCP;
        String refusal = "cannot checkpoint process " + proc.pid() + ": fd " + fd + " is a " + (tcp ? "TCP" : "UDP")
                + " socket (" + endpoint(s.local(), s.localPort())
                + (s.remotePort() != 0 ? " to " + endpoint(s.remote(), s.remotePort()) : "") + ")";
        int flags = Reopen.anonymousFlags(refusal, info);
        boolean listening = tcp && s.state() == TCP_LISTEN;
        boolean connected = !tcp && s.state() == TCP_ESTABLISHED;
        if (tcp && !listening && s.state() != TCP_CLOSE) {
            throw new HotcloneException(refusal + ", a TCP connection (state " + s.state() + "), which hotclone cannot"
                    + " restore yet");
        }
        if (!tcp && s.queued() > 0) {
            throw new HotcloneException(refusal + " with datagrams queued, which hotclone cannot restore yet");
        }
        int local = Descriptors.copyOf(proc.pid(), fd);
        try {
            String what = "fd " + fd + " of process " + proc.pid();
            return new InetSocketFd(fd, flags, (info.flags() & O_CLOEXEC) != 0, s.family(), tcp ? SOCK_STREAM : SOCK_DGRAM,
                    inode, s.local(), s.localPort(), listening, s.backlog(), connected ? s.remote() : new byte[0],
                    connected ? s.remotePort() : 0, SocketOptions.get(local, SOL_SOCKET, SO_REUSEADDR, what) != 0,
                    SocketOptions.get(local, SOL_SOCKET, SO_REUSEPORT, what) != 0,
                    s.family() != AF_INET && SocketOptions.get(local, IPPROTO_IPV6, IPV6_V6ONLY, what) != 0,
                    tcp && SocketOptions.get(local, IPPROTO_TCP, TCP_NODELAY, what) != 0,
                    SocketOptions.get(local, SOL_SOCKET, SO_KEEPALIVE, what) != 0);
        } finally {
            Descriptors.close(local);
        }
    }

    /** ADDRESS:PORT as people write it ([ADDRESS]:PORT for IPv6). */
    static String endpoint(byte[] address, int port) {
        try {
            String a = InetAddress.getByAddress(address).getHostAddress();
            return (address.length == 16 ? "[" + a + "]" : a) + ":" + port;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("an address of " + address.length + " bytes", e);
        }
    }

    @Override
    public void restore(Parking parking) {
        RemoteSyscalls remote = parking.remote();
        String named = "fd " + fd + " (" + (type == SOCK_STREAM ? "TCP " : "UDP ") + endpoint(address, port) + ")";
        long got = remote.check("socket for " + named, SYS_socket, family, type, 0);
        option(remote, got, SOL_SOCKET, SO_REUSEADDR, reuseAddress, named);
        option(remote, got, SOL_SOCKET, SO_REUSEPORT, reusePort, named);
        option(remote, got, SOL_SOCKET, SO_KEEPALIVE, keepAlive, named);
        if (family != AF_INET) {
            option(remote, got, IPPROTO_IPV6, IPV6_V6ONLY, v6Only, named);
        }
        if (type == SOCK_STREAM) {
            option(remote, got, IPPROTO_TCP, TCP_NODELAY, noDelay, named);
        }
        if (port != 0) {
            try {
                remote.check("bind for " + named, SYS_bind, got, remote.put(0, sockaddr(address, port)),
                        sockaddr(address, port).byteSize());
            } catch (SyscallException e) {
                if (e.errno() == EADDRINUSE || e.errno() == EADDRNOTAVAIL) {
                    throw new HotcloneException("cannot restore " + named + ": " + (e.errno() == EADDRINUSE
                            ? "the port is taken on this node: stop what uses it, or restore the program elsewhere"
                            : "this node has no such address: give it the address, or restore the program where it is"), e);
                }
                throw e;
            }
        }
        if (listening) {
            remote.check("listen(" + backlog + ") for " + named, SYS_listen, got, backlog);
        }
        if (peerPort != 0) {
            MemorySegment to = sockaddr(peer, peerPort);
            remote.check("connect to " + endpoint(peer, peerPort) + " for " + named, SYS_connect, got, remote.put(0, to),
                    to.byteSize());
        }
        if ((flags & O_NONBLOCK) != 0) {
            remote.check("fcntl(F_SETFL, O_NONBLOCK) for " + named, SYS_fcntl, got, F_SETFL, O_NONBLOCK);
        }
        Reopen.move(remote, got, fd, closeOnExec);
    }

    private static void option(RemoteSyscalls remote, long socket, int level, int option, boolean on, String named) {
        try (Arena arena = Arena.ofConfined()) {
            remote.check("setsockopt(" + level + ", " + option + ", " + on + ") for " + named, SYS_setsockopt, socket,
                    level, option, remote.put(0, arena.allocateFrom(JAVA_INT, on ? 1 : 0)), Integer.BYTES);
        }
    }

    /** A sockaddr_in or sockaddr_in6 for {@code address} and {@code port}, on the heap. */
    private MemorySegment sockaddr(byte[] at, int portNumber) {
        MemorySegment s = MemorySegment.ofArray(new byte[at.length == 4 ? 16 : 28]);
        s.set(JAVA_SHORT_UNALIGNED, 0, (short) family);
        s.set(JAVA_SHORT_UNALIGNED.withOrder(BIG_ENDIAN), 2, (short) portNumber);
        MemorySegment.copy(MemorySegment.ofArray(at), 0, s, at.length == 4 ? 4 : 8, at.length);
        return s;
    }
}
