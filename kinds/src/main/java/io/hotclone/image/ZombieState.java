package io.hotclone.image;

import io.hotclone.process.proc.ProcFs;

import java.util.Map;

/**
 * A child of one of the program's processes that ended and whose parent has not collected its
 * exit status yet (a zombie): saved in its parent's section of the checkpoint, after the
 * parent's descriptors. A restore makes it again from its parent, with its pid, in its session
 * and process group, and ends it as it ended, so that the parent's wait finds it and its status.
 *
 * @param pid        its pid on the capturing node, for messages
 * @param vpid       its pid in the program's pid namespace
 * @param vpgid      its process group's id there
 * @param vsid       its session's id there
 * @param waitStatus what wait(2) gives its parent: the exit status shifted left by 8, or the
 *                   signal that ended it (with 0x80 if it dumped core)
 */
@Tag(value = 20, version = 1, name = "zombie")
public record ZombieState(int pid, int vpid, int vpgid, int vsid, int waitStatus) implements ImageRecord {

    /** Reads the zombie {@code proc} shows, whose parent is held at the barrier (so it stays a zombie). */
    public static ZombieState dump(ProcFs proc) {
        Map<String, String> status = proc.status();
        return new ZombieState(proc.pid(), ProcessState.innermost(status, "NSpid"),
                ProcessState.innermost(status, "NSpgid"), ProcessState.innermost(status, "NSsid"),
                proc.stat().exitCode());
    }

    /** Whether it ended by a signal (else by exit). */
    public boolean signaled() {
        return (waitStatus & 0x7f) != 0;
    }

    /** The signal that ended it, if {@link #signaled}. */
    public int signal() {
        return waitStatus & 0x7f;
    }

    /** Its exit status, unless {@link #signaled}. */
    public int exitStatus() {
        return (waitStatus >> 8) & 0xff;
    }

    /** How it ended, for messages: "exited with status 3", "was killed by signal 15". */
    public String ending() {
        return signaled() ? "was killed by signal " + signal() + ((waitStatus & 0x80) != 0 ? " (core dumped)" : "")
                : "exited with status " + exitStatus();
    }
}
