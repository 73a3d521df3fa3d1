package io.hotclone.image;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.FileIdentities;
import io.hotclone.process.FileIdentity;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.proc.ProcStat;
import io.hotclone.process.ptrace.RemoteSyscalls;

import java.util.List;
import java.util.Map;

import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_chdir;
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
 */
@Tag(value = 2, version = 3, name = "process")
public record ProcessState(int pid, boolean sessionLeader, String exe, FileIdentity exeIdentity,
                           MmState mm, byte[] auxv, String cwd, String root, int umask,
                           int personality, List<RlimitState> rlimits,
                           List<SigactionState> sigactions, List<byte[]> sharedPending,
                           @Since(2) boolean groupLeader, @Since(3) UtsState uts) implements ImageRecord {

    /**
     * The process-wide state of a frozen process (its threads are saved one by one: {@link ThreadState}).
     *
     * @param remote        system calls injected into it
     * @param sharedPending its process-directed pending signals, read before any injected call
     */
    public static ProcessState dump(ProcFs proc, RemoteSyscalls remote, List<byte[]> sharedPending) {
        ProcStat stat = proc.stat();
        Map<String, String> status = proc.status();
        int umask = Integer.parseInt(status.get("Umask"), 8);
        long changed = Long.parseUnsignedLong(status.get("SigCgt"), 16) | Long.parseUnsignedLong(status.get("SigIgn"), 16);
        int personality = (int) Long.parseLong(proc.text("personality").strip(), 16);
        return new ProcessState(proc.pid(), stat.session() == proc.pid(), proc.link("exe"),
                FileIdentities.of(proc.path("exe")), MmState.dump(stat, remote), proc.bytes("auxv"), proc.link("cwd"),
                proc.link("root"), umask, personality, RlimitState.dumpAll(proc.pid()),
                SigactionState.dumpAll(remote, changed), sharedPending, stat.pgrp() == proc.pid(),
                UtsState.dump(proc, remote));
    }

    /**
     * Installs the working directory, umask, personality, signal dispositions, limits,
     * pending signals and host names in process {@code pid}, which {@code remote} runs in (its memory, mm
     * fields and descriptors come apart, before).
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
    }
}
