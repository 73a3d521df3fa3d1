package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.linux.clone_args;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.proc.ProcFs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.hotclone.bindings.linux.Sched.CLONE_PARENT;
import static io.hotclone.bindings.linux.Signal.SIGCHLD;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone3;

/**
 * A copy-on-write copy of a frozen program, for a capture that reads the pages after the
 * program runs again: a child forked by a clone injected into the program at the barrier. The
 * child never runs (the kernel attaches it to this tracer and it stops before its first
 * instruction), so its private memory stays what the program's was at the barrier.
 *
 * <p>The copy's parent is the program's parent (CLONE_PARENT): for a protected program that is
 * this hotclone, which reaps it, and the program never sees a child of its own. A program that
 * is the first process of its pid namespace may not make a sibling: its copy is its own child,
 * made with no exit signal, so that it gets no SIGCHLD and wait(2) never reports it without
 * __WALL; once closed, the copy is a zombie of the program's, to be reaped in it
 * ({@link #programPid()}). The program's thread must be traced with PTRACE_O_TRACEFORK and
 * PTRACE_O_TRACECLONE (a child with no exit signal is reported as a clone).
 */
public final class FrozenCopy implements AutoCloseable {
    private final Tracee tracee;
    private final int programPid;

    private FrozenCopy(Tracee tracee, int programPid) {
        this.tracee = tracee;
        this.programPid = programPid;
    }

    /**
     * Forks the thread {@code remote} has infected; the copy is stopped when this returns.
     *
     * @param init whether the program is the first process of its pid namespace
     */
    public static FrozenCopy fork(RemoteSyscalls remote, boolean init) {
        int child;
        int programPid = 0;
        if (init) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment args = clone_args.allocate(arena); // no flags, no exit signal
                child = remote.callCloning("clone3(no exit signal)", SYS_clone3, remote.put(0, args), clone_args.sizeof());
            }
            programPid = new ProcFs(child).innermostId(child);
        } else {
            child = remote.callForking("clone(CLONE_PARENT | SIGCHLD)", SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        }
        FrozenCopy copy = new FrozenCopy(Tracee.autoAttached(child), programPid);
        WaitStatus first = copy.tracee.await();
        if (!first.stopped()) {
            copy.close();
            throw new HotcloneException("the copy-on-write copy (pid " + child + ") of a frozen program " + first
                    + " before its first stop");
        }
        return copy;
    }

    /** The copy's pid in the program's namespace if it is the program's child, to reap there; else 0. */
    public int programPid() {
        return programPid;
    }

    /** The copy's pid: read its memory with process_vm_readv and /proc/PID/pagemap. */
    public int pid() {
        return tracee.tid();
    }

    /** Kills the copy and reaps it. */
    @Override
    public void close() {
        try {
            Spawn.kill(tracee.tid(), SIGKILL);
            while (!tracee.await().gone()) {
                // a stop reported before the kill landed: the next wait sees the end
            }
        } finally {
            tracee.forget();
        }
    }
}
