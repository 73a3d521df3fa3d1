package io.hotclone.image;

import io.hotclone.bindings.linux.stack_t;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Signal.SS_DISABLE;
import static io.hotclone.bindings.linux.Signal.SS_ONSTACK;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_sigaltstack;

/** A thread's alternate signal stack (stack_t). */
public record SigaltstackState(long sp, int flags, long size) {

    /** The alternate stack of each thread {@code threads} run in, read by calls made at once. */
    static List<SigaltstackState> dumpAll(List<RemoteSyscalls> threads) {
        RemoteSyscalls.checkEach(threads, "sigaltstack(NULL, &old)", SYS_sigaltstack, r -> new long[] {0, r.scratch()});
        try (Arena local = Arena.ofConfined()) {
            MemorySegment ss = local.allocate(stack_t.layout());
            List<SigaltstackState> stacks = new ArrayList<>();
            for (RemoteSyscalls r : threads) {
                r.memory().read(r.scratch(), ss);
                stacks.add(new SigaltstackState(stack_t.ss_sp(ss).address(), stack_t.ss_flags(ss), stack_t.ss_size(ss)));
            }
            return stacks;
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
