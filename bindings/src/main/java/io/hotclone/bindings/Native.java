package io.hotclone.bindings;

import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Small helpers over {@link Libc}: the calling thread's errno state, turning -1 into a
 * {@link SyscallException} that names the call, and C strings. All static and thread-safe;
 * a call state belongs to the thread that uses it.
 */
public final class Native {
    private Native() {}

    private static final ThreadLocal<CallState> THREAD_STATE = ThreadLocal.withInitial(CallState::forThread);
    private static final int PATH_MAX = 4096;

    /** The calling thread's call-state segment, for calls that do not own a {@link CallState}. */
    public static MemorySegment callState() {
        return THREAD_STATE.get().segment();
    }

    /** Returns {@code result}, or throws a {@link SyscallException} naming {@code call} if it is -1. */
    public static long check(long result, MemorySegment callState, String call) {
        if (result == -1) throw new SyscallException(call, Libc.errno(callState));
        return result;
    }

    public static int check(int result, MemorySegment callState, String call) {
        if (result == -1) throw new SyscallException(call, Libc.errno(callState));
        return result;
    }

    /** As {@link #check(long, MemorySegment, String)}, building the description only on failure. */
    public static long check(long result, MemorySegment callState, Supplier<String> call) {
        if (result == -1) throw new SyscallException(call.get(), Libc.errno(callState));
        return result;
    }

    /**
     * For the functions that return an error number instead of setting errno (posix_spawn and
     * its helpers): throws a {@link SyscallException} naming {@code call} unless it is 0.
     */
    public static void checkReturned(int error, String call) {
        if (error != 0) throw new SyscallException(call, error);
    }

    /** A NUL-terminated copy of {@code s} in {@code arena}. */
    public static MemorySegment cString(Arena arena, String s) {
        return arena.allocateFrom(s);
    }

    /** The NUL-terminated string at {@code address}, a zero-length segment a downcall returned. */
    public static String string(MemorySegment address) {
        return address.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** The target of the symbolic link {@code link}, e.g. {@code pipe:[1234]} for /proc/PID/fd/N. */
    public static String readLink(Path link) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = callState();
            MemorySegment buf = arena.allocate(PATH_MAX);
            long n = check(Libc.readlink(cs, cString(arena, link.toString()), buf, PATH_MAX), cs, () -> "readlink(" + link + ")");
            if (n == PATH_MAX) throw new HotcloneException("readlink(" + link + "): the target is longer than " + PATH_MAX + " bytes");
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** strerror(3)'s text for {@code errno}, e.g. "No such process". */
    public static String strerror(int errno) {
        return string(Libc.strerror(callState(), errno));
    }
}
