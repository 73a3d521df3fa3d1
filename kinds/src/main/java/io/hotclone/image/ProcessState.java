package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.FileIdentity;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.proc.ProcStat;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import static io.hotclone.bindings.linux.Prctl.PR_GET_PDEATHSIG;
import static io.hotclone.bindings.linux.Prctl.PR_SET_PDEATHSIG;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_chdir;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_personality;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_umask;

/**
 * One process at the barrier, except its threads, memory areas, pages and fds, which are
 * records of their own.
 *
 * @param pid            pid on the capturing node
 * @param sessionLeader  whether the process led its own session (setsid)
 * @param exe            path of the executable
 * @param exeIdentity    identity of the executable file
 * @param mm             the mm fields
 * @param auxv           the auxiliary vector, raw
 * @param cwd            working directory
 * @param root           root directory
 * @param umask          file mode creation mask
 * @param personality    personality(2) flags
 * @param rlimits        every resource limit
 * @param sigactions     every signal disposition that is not SIG_DFL
 * @param sharedPending  process-directed pending signals, each a 128-byte siginfo_t
 * @param groupLeader    whether it led its process group (a restore makes it lead one again)
 * @param uts            its host and domain names, null when it shares hotclone's UTS namespace
 * @param vpid           its pid in the program's own pid namespace (the one the program knows; a
 *                       restore gives it the same); 0 in records of a hotclone that did not save it
 * @param vppid          its parent's pid there; 0 for the program's first process, whose parent
 *                       is outside
 * @param vpgid          its process group's id there; 0 when the group is led from outside
 * @param vsid           its session's id there; 0 when the session is led from outside
 * @param parentDeathSignal the signal it gets when its parent ends (prctl(PR_SET_PDEATHSIG)), 0 for none
 * @param lastPid        the last pid the program's pid namespace gave, on the first process of a
 *                       namespace of its own (its init); 0 on the others
 */
@Tag(value = 2, version = 4, name = "process")
public record ProcessState(int pid, boolean sessionLeader, String exe, FileIdentity exeIdentity,
                           MmState mm, byte[] auxv, String cwd, String root, int umask,
                           int personality, List<RlimitState> rlimits,
                           List<SigactionState> sigactions, List<byte[]> sharedPending,
                           @Since(2) boolean groupLeader, @Since(3) UtsState uts, @Since(4) int vpid,
                           @Since(4) int vppid, @Since(4) int vpgid, @Since(4) int vsid,
                           @Since(4) int parentDeathSignal, @Since(4) int lastPid) implements ImageRecord {

    /**
     * The process-wide state of a frozen process (its threads are saved one by one: {@link ThreadState}).
     *
     * @param remote        system calls injected into it
     * @param sharedPending its process-directed pending signals, read before any injected call
     * @param vppid         its parent's pid in the program's pid namespace (0 for the program's first process)
     */
    public static ProcessState dump(ProcFs proc, RemoteSyscalls remote, List<byte[]> sharedPending, int vppid) {
        ProcStat stat = proc.stat();
        Map<String, String> status = proc.status();
        int umask = Integer.parseInt(status.get("Umask"), 8);
        long changed = Long.parseUnsignedLong(status.get("SigCgt"), 16) | Long.parseUnsignedLong(status.get("SigIgn"), 16);
        int personality = (int) Long.parseLong(proc.text("personality").strip(), 16);
        int vpid = innermost(status, "NSpid");
        return new ProcessState(proc.pid(), stat.session() == proc.pid(), proc.link("exe"),
                FileIdentities.of(proc.path("exe")), MmState.dump(stat, remote), proc.bytes("auxv"), proc.link("cwd"),
                proc.link("root"), umask, personality, RlimitState.dumpAll(proc.pid()),
                SigactionState.dumpAll(remote, changed), sharedPending, stat.pgrp() == proc.pid(),
                UtsState.dump(proc, remote), vpid, vppid, innermost(status, "NSpgid"), innermost(status, "NSsid"),
                parentDeathSignal(remote), vppid == 0 && vpid == 1 ? LastPid.read(remote) : 0);
    }

    private static int parentDeathSignal(RemoteSyscalls remote) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment signal = arena.allocate(ValueLayout.JAVA_INT);
            remote.check("prctl(PR_GET_PDEATHSIG)", SYS_prctl, PR_GET_PDEATHSIG, remote.put(0, signal));
            remote.memory().read(remote.scratch(), signal);
            return signal.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The last id of a status line that lists one per pid namespace, outermost first: the program's own. */
    static int innermost(Map<String, String> status, String field) {
        String ids = status.get(field);
        if (ids == null) {
            throw new HotcloneException("/proc status has no " + field + " line: this kernel is older than hotclone"
                    + " supports (4.1+)");
        }
        String[] each = ids.split("\\s+");
        return Integer.parseInt(each[each.length - 1]);
    }

    /**
     * Installs the working directory, umask, personality, signal dispositions, limits, pending
     * signals, host names, the pid namespace's last pid and, in a child of the program's, the
     * parent-death signal in process {@code pid}, which {@code remote} runs in (its memory, mm
     * fields and descriptors come apart, before). The program's first process keeps the
     * parent-death signal that ties it to hotclone.
     */
    public void restore(RemoteSyscalls remote, int pid) {
        if (!root.equals("/")) {
            throw new HotcloneException("the program ran chrooted in " + root + ", which hotclone cannot restore yet");
        }
        remote.check("chdir(" + cwd + ")", SYS_chdir, remote.putString(0, cwd));
        remote.check("umask", SYS_umask, umask);
        remote.check("personality", SYS_personality, personality & 0xffffffffL);
        SigactionState.restoreAll(remote, sigactions);
        RlimitState.restoreAll(pid, rlimits);
        PendingSignals.restoreShared(remote, sharedPending);
        if (uts != null) {
            uts.restore(remote, pid);
        }
        if (lastPid != 0) {
            LastPid.write(remote, lastPid);
        }
        if (vppid != 0 && parentDeathSignal != 0) {
            remote.check("prctl(PR_SET_PDEATHSIG, " + parentDeathSignal + ")", SYS_prctl, PR_SET_PDEATHSIG,
                    parentDeathSignal);
        }
    }
}
