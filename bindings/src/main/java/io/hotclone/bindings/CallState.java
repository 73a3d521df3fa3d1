package io.hotclone.bindings;

import io.hotclone.bindings.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * The segment a {@link Libc} call leaves errno in, owned by one thread: pass {@link #segment()}
 * as the first argument, then {@link #check} the result. Closing it frees the segment.
 * Code without a lifetime of its own uses {@link Native#callState()}, the thread's own.
 */
public final class CallState implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment segment;

    public CallState() {
        this(Arena.ofConfined());
    }

    private CallState(Arena arena) {
        this.arena = arena;
        this.segment = arena.allocate(Libc.callStateLayout());
    }

    /** One per thread, freed with the thread; never closed. */
    static CallState forThread() {
        return new CallState(Arena.ofAuto());
    }

    public MemorySegment segment() {
        return segment;
    }

    /** The errno of the last call made with this state. */
    public int errno() {
        return Libc.errno(segment);
    }

    /** Returns {@code result}, or throws a {@link SyscallException} naming {@code call} if it is -1. */
    public long check(long result, String call) {
        return Native.check(result, segment, call);
    }

    public int check(int result, String call) {
        return Native.check(result, segment, call);
    }

    /** As {@link #check(long, String)}, building the call's description only when it failed. */
    public long check(long result, Supplier<String> call) {
        return Native.check(result, segment, call);
    }

    @Override
    public void close() {
        arena.close();
    }
}
