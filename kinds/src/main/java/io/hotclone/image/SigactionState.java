package io.hotclone.image;

import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Signal._NSIG;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigaction;

/** The kernel's struct sigaction for one signal whose disposition is not the default. */
public record SigactionState(int signal, long handler, long flags, long restorer, long mask) {

    /**
     * Every disposition that is not SIG_DFL, read by rt_sigaction(sig, NULL, &old) in the process.
     * Only the signals /proc says are caught or ignored are asked about: each question is an
     * injected call, and the program is frozen meanwhile.
     *
     * @param changed bit n-1 set for each signal n that is caught or ignored
     */
    static List<SigactionState> dumpAll(RemoteSyscalls remote, long changed) {
        List<SigactionState> actions = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = hc_kernel_sigaction.allocate(arena);
            for (int sig = 1; sig <= _NSIG; sig++) {
                if ((changed & (1L << (sig - 1))) == 0) {
                    continue;
                }
                remote.check("rt_sigaction(" + sig + ", NULL, &old)", SYS_rt_sigaction, sig, 0, remote.scratch(), 8);
                remote.memory().read(remote.scratch(), act);
                actions.add(new SigactionState(sig, hc_kernel_sigaction.handler(act), hc_kernel_sigaction.flags(act),
                        hc_kernel_sigaction.restorer(act), hc_kernel_sigaction.mask(act)));
            }
        }
        return actions;
    }

    /** Installs {@code actions} in the process {@code remote} runs in. */
    static void restoreAll(RemoteSyscalls remote, List<SigactionState> actions) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment act = hc_kernel_sigaction.allocate(arena);
            for (SigactionState s : actions) {
                hc_kernel_sigaction.handler(act, s.handler);
                hc_kernel_sigaction.flags(act, s.flags);
                hc_kernel_sigaction.restorer(act, s.restorer);
                hc_kernel_sigaction.mask(act, s.mask);
                remote.check("rt_sigaction(" + s.signal + ")", SYS_rt_sigaction, s.signal, remote.put(0, act), 0, 8);
            }
        }
    }
}
