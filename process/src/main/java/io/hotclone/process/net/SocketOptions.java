package io.hotclone.process.net;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_getsockopt;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Socket options read through a descriptor of hotclone's. */
public final class SocketOptions {
    private SocketOptions() {
    }

    /** The int option {@code option} of {@code level} of {@code socket}; {@code what} names the socket if it fails. */
    public static int get(int socket, int level, int option, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = arena.allocate(Libc.callStateLayout());
            MemorySegment value = arena.allocateFrom(JAVA_INT, 0);
            MemorySegment length = arena.allocateFrom(JAVA_INT, Integer.BYTES);
            Native.check(Libc.syscall(cs, SYS_getsockopt, socket, level, option, value.address(), length.address(), 0),
                    cs, what + ": getsockopt(" + level + ", " + option + ")");
            return value.get(JAVA_INT, 0);
        }
    }
}
