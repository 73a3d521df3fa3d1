package io.hotclone.process.net;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.cmsghdr;
import io.hotclone.bindings.linux.iovec;
import io.hotclone.bindings.linux.msghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.EAGAIN;
import static io.hotclone.bindings.linux.Socket.MSG_CTRUNC;
import static io.hotclone.bindings.linux.Socket.MSG_DONTWAIT;
import static io.hotclone.bindings.linux.Socket.MSG_PEEK;
import static io.hotclone.bindings.linux.Socket.MSG_TRUNC;
import static io.hotclone.bindings.linux.Socket.SCM_RIGHTS;
import static io.hotclone.bindings.linux.Socket.SOCK_STREAM;
import static io.hotclone.bindings.linux.Socket.SOL_SOCKET;
import static io.hotclone.bindings.linux.Socket.SO_PEEK_OFF;
import static io.hotclone.bindings.linux.Socket.SO_SNDBUF;
import static io.hotclone.bindings.linux.Socket.SO_SNDBUFFORCE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_recvmsg;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sendto;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setsockopt;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What is queued to be read on a Unix socket, read without taking it (MSG_PEEK) through a
 * descriptor of hotclone's for the same socket, and queued again on a restored one by sending
 * it from its peer. A stream's bytes are one piece; datagrams and sequenced packets one piece
 * each, stepped through with SO_PEEK_OFF.
 */
public final class UnixQueue {
    /** Room for the control messages of one peek: enough to see descriptors in flight. */
    private static final int CONTROL_BYTES = 256;
    /** The largest datagram hotclone reads; a larger one is refused (MSG_TRUNC). */
    private static final int MAX_MESSAGE = 4 << 20;

    private UnixQueue() {
    }

    /**
     * The pieces queued on {@code socket} (hotclone's descriptor for it), left there.
     *
     * @param type   SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
     * @param bytes  a stream's queued bytes, as sock_diag counts them
     * @param shut   whether it receives no more (shut down, or its peer is): a peek of nothing
     *               is then the end of its queue, not an empty datagram
     * @param what   the socket, named for a refusal
     */
    public static List<byte[]> peek(int socket, int type, int bytes, boolean shut, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            if (SocketOptions.get(socket, SOL_SOCKET, SO_PEEK_OFF, what) >= 0) {
                throw new HotcloneException(what + " reads from a peek offset (SO_PEEK_OFF), which hotclone cannot"
                        + " restore yet");
            }
            if (type == SOCK_STREAM) {
                if (bytes == 0) {
                    return List.of();
                }
                byte[] all = receive(arena, cs, socket, bytes, what);
                if (all.length != bytes) {
                    throw new HotcloneException(what + ": a peek read " + all.length + " of its " + bytes + " queued bytes");
                }
                return List.of(all);
            }
            MemorySegment offset = arena.allocateFrom(JAVA_INT, 0);
            Native.check(Libc.syscall(cs, SYS_setsockopt, socket, SOL_SOCKET, SO_PEEK_OFF, offset.address(), Integer.BYTES, 0),
                    cs, what + ": setsockopt(SO_PEEK_OFF, 0)");
            try {
                List<byte[]> messages = new ArrayList<>();
                for (byte[] m; (m = receive(arena, cs, socket, MAX_MESSAGE, what)) != null; ) {
                    if (m.length == 0 && shut) {
                        break;
                    }
                    if (m.length == 0) {
                        throw new HotcloneException(what + " has an empty datagram queued, which hotclone cannot"
                                + " step over yet");
                    }
                    messages.add(m);
                }
                return messages;
            } finally {
                offset.set(JAVA_INT, 0, -1);
                Libc.syscall(cs, SYS_setsockopt, socket, SOL_SOCKET, SO_PEEK_OFF, offset.address(), Integer.BYTES, 0);
            }
        }
    }

    /** One peek of at most {@code max} bytes; null when nothing (more) is queued. */
    private static byte[] receive(Arena arena, MemorySegment cs, int socket, int max, String what) {
        MemorySegment buffer = arena.allocate(max);
        MemorySegment iov = iovec.allocate(arena);
        iovec.iov_base(iov, buffer);
        iovec.iov_len(iov, max);
        MemorySegment control = arena.allocate(CONTROL_BYTES, 8);
        MemorySegment msg = msghdr.allocate(arena);
        msghdr.msg_iov(msg, iov);
        msghdr.msg_iovlen(msg, 1);
        msghdr.msg_control(msg, control);
        msghdr.msg_controllen(msg, CONTROL_BYTES);
        long got = Libc.syscall(cs, SYS_recvmsg, socket, msg.address(), MSG_PEEK | MSG_DONTWAIT, 0, 0, 0);
        if (got < 0) {
            if (Libc.errno(cs) == EAGAIN) {
                return null;
            }
            throw new SyscallException(what + ": recvmsg(MSG_PEEK)", Libc.errno(cs));
        }
        int flags = msghdr.msg_flags(msg);
        if ((flags & MSG_TRUNC) != 0) {
            throw new HotcloneException(what + " has a datagram larger than " + max + " bytes queued");
        }
        if ((flags & MSG_CTRUNC) != 0 || refuseDescriptors(cs, control, msghdr.msg_controllen(msg))) {
            throw new HotcloneException(what + " has descriptors in flight (SCM_RIGHTS) queued, which hotclone cannot"
                    + " restore yet");
        }
        return buffer.asSlice(0, got).toArray(JAVA_BYTE);
    }

    /** Whether the control messages hold descriptors, which the peek gave hotclone: they are closed. */
    private static boolean refuseDescriptors(MemorySegment cs, MemorySegment control, long length) {
        boolean found = false;
        for (long at = 0; at + cmsghdr.sizeof() <= length; ) {
            MemorySegment c = control.asSlice(at);
            long size = cmsghdr.cmsg_len(c);
            if (size < cmsghdr.sizeof()) {
                break;
            }
            if (cmsghdr.cmsg_level(c) == SOL_SOCKET && cmsghdr.cmsg_type(c) == SCM_RIGHTS) {
                found = true;
                for (long i = cmsghdr.sizeof(); i + Integer.BYTES <= size; i += Integer.BYTES) {
                    Libc.syscall(cs, SYS_close, c.get(JAVA_INT, i), 0, 0, 0, 0, 0);
                }
            }
            at += (size + 7) & ~7L;
        }
        return found;
    }

    /**
     * Sends {@code pieces} from {@code socket} (hotclone's descriptor for the peer of the
     * socket they go to), its send buffer raised for it meanwhile: it held them all once.
     */
    public static void send(int socket, List<byte[]> pieces, String what) {
        if (pieces.isEmpty()) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            int kept = SocketOptions.get(socket, SOL_SOCKET, SO_SNDBUF, what);
            MemorySegment size = arena.allocate(JAVA_INT);
            long total = pieces.stream().mapToLong(p -> p.length + 1024L).sum();
            setBuffer(cs, size, socket, (int) Math.min(Integer.MAX_VALUE / 2, Math.max(kept, total)), what);
            try {
                for (byte[] piece : pieces) {
                    MemorySegment bytes = arena.allocateFrom(JAVA_BYTE, piece);
                    for (long done = 0; done < piece.length; ) {
                        long sent = Native.check(Libc.syscall(cs, SYS_sendto, socket, bytes.address() + done, piece.length - done,
                                MSG_DONTWAIT, 0, 0), cs, what + ": sendto of " + piece.length + " queued bytes");
                        done += sent;
                    }
                }
            } finally {
                setBuffer(cs, size, socket, kept / 2, what); // the kernel doubles what it is given
            }
        }
    }

    private static void setBuffer(MemorySegment cs, MemorySegment size, int socket, int bytes, String what) {
        size.set(JAVA_INT, 0, bytes);
        Native.check(Libc.syscall(cs, SYS_setsockopt, socket, SOL_SOCKET, SO_SNDBUFFORCE, size.address(), Integer.BYTES, 0), cs,
                what + ": setsockopt(SO_SNDBUFFORCE, " + bytes + ")");
    }

}
