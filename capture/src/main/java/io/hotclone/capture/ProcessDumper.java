package io.hotclone.capture;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.bindings.linux.rlimit;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.proc.ProcStat;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.image.MmState;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RlimitState;
import io.hotclone.image.SigactionState;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.hotclone.bindings.linux.Resource.RLIM_NLIMITS;
import static io.hotclone.bindings.linux.Signal._NSIG;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_brk;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigaction;
import static java.lang.foreign.MemorySegment.NULL;

/** Reads the process-wide state of a frozen, single-threaded process. */
final class ProcessDumper {
    private ProcessDumper() {
    }

    static ProcessState dump(ProcFs proc, RemoteSyscalls remote, List<byte[]> sharedPending) {
        ProcStat stat = proc.stat();
        long brk = remote.check("brk(0)", SYS_brk, 0);
        MmState mm = new MmState(stat.startCode(), stat.endCode(), stat.startData(), stat.endData(),
                stat.startBrk(), brk, stat.startStack(), stat.argStart(), stat.argEnd(),
                stat.envStart(), stat.envEnd());
        Map<String, String> status = proc.status();
        int umask = Integer.parseInt(status.get("Umask"), 8);
        long changed = Long.parseUnsignedLong(status.get("SigCgt"), 16) | Long.parseUnsignedLong(status.get("SigIgn"), 16);
        int personality = (int) Long.parseLong(proc.text("personality").strip(), 16);
        return new ProcessState(proc.pid(), stat.session() == proc.pid(), proc.link("exe"),
                FileIdentities.of(proc.path("exe")), mm, proc.bytes("auxv"), proc.link("cwd"),
                proc.link("root"), umask, personality, rlimits(proc.pid()), sigactions(remote, changed),
                sharedPending);
    }

    private static List<RlimitState> rlimits(int pid) {
        List<RlimitState> limits = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment old = rlimit.allocate(arena);
            for (int r = 0; r < RLIM_NLIMITS; r++) {
                if (Libc.prlimit(callState, pid, r, NULL, old) != 0) {
                    throw new SyscallException("prlimit(pid=" + pid + ", resource=" + r + ")", Libc.errno(callState));
                }
                limits.add(new RlimitState(r, rlimit.rlim_cur(old), rlimit.rlim_max(old)));
            }
        }
        return limits;
    }

    /**
     * Every disposition that is not SIG_DFL, read by rt_sigaction(sig, NULL, &old) in the process.
     * Only the signals /proc says are caught or ignored are asked about: each question is an
     * injected call, and the program is frozen meanwhile.
     *
     * @param changed bit n-1 set for each signal n that is caught or ignored
     */
    private static List<SigactionState> sigactions(RemoteSyscalls remote, long changed) {
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
}
