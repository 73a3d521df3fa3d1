package io.hotclone.image;

import io.hotclone.bindings.linux.stack_t;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Signal.SS_DISABLE;
import static io.hotclone.bindings.linux.Signal.SS_ONSTACK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sigaltstack;

/** A thread's alternate signal stack (stack_t). */
public record SigaltstackState(long sp, int flags, long size) {

    /** The alternate stack of the thread {@code remote} runs in. */
    static SigaltstackState dump(RemoteSyscalls remote) {
        remote.check("sigaltstack(NULL, &old)", SYS_sigaltstack, 0, remote.scratch());
        try (Arena local = Arena.ofConfined()) {
            MemorySegment ss = local.allocate(stack_t.layout());
            remote.memory().read(remote.scratch(), ss);
            return new SigaltstackState(stack_t.ss_sp(ss).address(), stack_t.ss_flags(ss), stack_t.ss_size(ss));
        }
    }

    /** Sets it in the thread {@code remote} runs in, unless it was disabled (every new thread's state). */
    void restore(RemoteSyscalls remote) {
        if ((flags & SS_DISABLE) != 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stack = stack_t.allocate(arena);
            stack_t.ss_sp(stack, MemorySegment.ofAddress(sp));
            // SS_ONSTACK is the kernel's report that the thread runs on it, not a flag to set.
            stack_t.ss_flags(stack, flags & ~SS_ONSTACK);
            stack_t.ss_size(stack, size);
            remote.check("sigaltstack", SYS_sigaltstack, remote.put(0, stack), 0);
        }
    }
}
