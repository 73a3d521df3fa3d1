package io.hotclone.image;

import io.hotclone.process.FileIdentity;

import java.util.List;

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
 */
@Tag(value = 2, version = 1, name = "process")
public record ProcessState(int pid, boolean sessionLeader, String exe, FileIdentity exeIdentity,
                           MmState mm, byte[] auxv, String cwd, String root, int umask,
                           int personality, List<RlimitState> rlimits,
                           List<SigactionState> sigactions, List<byte[]> sharedPending) implements ImageRecord {
}
