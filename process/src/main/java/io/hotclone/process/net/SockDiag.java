package io.hotclone.process.net;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.nlattr;
import io.hotclone.bindings.linux.nlmsghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

import static io.hotclone.bindings.linux.Socket.AF_NETLINK;
import static io.hotclone.bindings.linux.Socket.NETLINK_SOCK_DIAG;
import static io.hotclone.bindings.linux.Socket.NLMSG_DONE;
import static io.hotclone.bindings.linux.Socket.NLM_F_DUMP;
import static io.hotclone.bindings.linux.Socket.NLMSG_ERROR;
import static io.hotclone.bindings.linux.Socket.SOCK_CLOEXEC;
import static io.hotclone.bindings.linux.Socket.SOCK_DGRAM;
import static io.hotclone.bindings.linux.Socket.SOCK_DIAG_BY_FAMILY;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_close;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_recvfrom;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sendto;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_socket;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One sock_diag(7) request (SOCK_DIAG_BY_FAMILY over NETLINK_SOCK_DIAG, in hotclone's network
 * namespace) and its answers, handed one by one to the caller.
 */
final class SockDiag {
    private static final int REPLY_BYTES = 32 * 1024;

    private SockDiag() {
    }

    /**
     * Sends {@code request} (the family's request structure, after the netlink header this
     * adds) and hands each answer's body to {@code answer} until it returns true or the answers
     * end.
     *
     * @return the kernel's error for the request (a positive errno), 0 if none
     */
    static int ask(MemorySegment request, int flags, String what, Predicate<MemorySegment> answer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            int fd = (int) Native.check(Libc.syscall(cs, SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG, 0,
                    0, 0), cs, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
            try {
                MemorySegment message = arena.allocate(nlmsghdr.sizeof() + request.byteSize(), 8);
                nlmsghdr.nlmsg_len(message, (int) message.byteSize());
                nlmsghdr.nlmsg_type(message, (short) SOCK_DIAG_BY_FAMILY);
                nlmsghdr.nlmsg_flags(message, (short) flags);
                message.asSlice(nlmsghdr.sizeof()).copyFrom(request);
                Native.check(Libc.syscall(cs, SYS_sendto, fd, message.address(), message.byteSize(), 0, 0, 0), cs,
                        "sendto(sock_diag, " + what + ")");
                MemorySegment reply = arena.allocate(REPLY_BYTES, 8);
                while (true) {
                    long got = Native.check(Libc.syscall(cs, SYS_recvfrom, fd, reply.address(), REPLY_BYTES, 0, 0, 0), cs,
                            "recvfrom(sock_diag, " + what + ")");
                    for (long at = 0; at + nlmsghdr.sizeof() <= got; ) {
                        MemorySegment m = reply.asSlice(at);
                        long length = Integer.toUnsignedLong(nlmsghdr.nlmsg_len(m));
                        if (length < nlmsghdr.sizeof() || at + length > got) {
                            return 0;
                        }
                        int type = nlmsghdr.nlmsg_type(m);
                        if (type == NLMSG_DONE) {
                            return 0;
                        }
                        if (type == NLMSG_ERROR) {
                            return -m.get(JAVA_INT, nlmsghdr.sizeof());
                        }
                        if (answer.test(m.asSlice(nlmsghdr.sizeof(), length - nlmsghdr.sizeof()))) {
                            return 0;
                        }
                        at += (length + 3) & ~3L;
                    }
                    if ((flags & NLM_F_DUMP) == 0) {
                        return 0;
                    }
                }
            } finally {
                Libc.syscall(cs, SYS_close, fd, 0, 0, 0, 0, 0);
            }
        }
    }

    /** Hands each netlink attribute of {@code body} from {@code offset} on to {@code each} (its type, its payload). */
    static void attributes(MemorySegment body, long offset, BiConsumer<Integer, MemorySegment> each) {
        for (long at = offset; at + nlattr.sizeof() <= body.byteSize(); ) {
            MemorySegment attr = body.asSlice(at);
            int length = Short.toUnsignedInt(nlattr.nla_len(attr));
            if (length < nlattr.sizeof() || at + length > body.byteSize()) {
                return;
            }
            each.accept((int) nlattr.nla_type(attr), body.asSlice(at + nlattr.sizeof(), length - nlattr.sizeof()));
            at += (length + 3) & ~3;
        }
    }

}
