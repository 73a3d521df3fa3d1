package io.hotclone.process.launch;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.clone_args;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.process.ptrace.WaitStatus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.EEXIST;
import static io.hotclone.bindings.linux.Prctl.PR_SET_PDEATHSIG;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_EXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_EXITKILL;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACECLONE;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACEEXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static io.hotclone.bindings.linux.Sched.CLONE_NEWIPC;
import static io.hotclone.bindings.linux.Sched.CLONE_NEWPID;
import static io.hotclone.bindings.linux.Sched.CLONE_NEWUTS;
import static io.hotclone.bindings.linux.Sched.CLONE_PARENT;
import static io.hotclone.bindings.linux.Signal.SIGCONT;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_munmap;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setpgid;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setsid;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_unshare;
import static io.hotclone.bindings.linux.Wait.WUNTRACED;
import static io.hotclone.bindings.linux.Wait.__WALL;

/**
 * Starts a program held at the end of its execve, before any of its code has run: a shell
 * that stopped itself first, so that hotclone could seize it, execs the program. Its
 * /proc/PID/exe and comm are thus already the program's, and hotclone sets, before the
 * program's first instruction, whether it dies with hotclone ({@link Lifetime}).
 *
 * <p>It is started with {@link Spawn}, so it inherits hotclone's stdio and nothing else of
 * the JVM. Thread confinement: the calling thread becomes the tracer, and the program's
 * parent: a {@link Lifetime#TIED} program dies when that thread ends, so call from a thread
 * that lives as long as the program's protection.
 */
public final class HeldStart {
    /** What becomes of the program when the hotclone that started it ends first (kill -9 included). */
    public enum Lifetime {
        /**
         * Killed with it: PR_SET_PDEATHSIG(SIGKILL), which the kernel sends when the thread
         * that started the program ends, however it ends.
         */
        TIED,
        /** Runs on, no longer protected. */
        FREE
    }

    /** Where the program lives: which namespaces, with which pid. */
    public sealed interface Placement permits OwnNamespaces, SharedNamespaces {
    }

    /**
     * PID, IPC and UTS namespaces of its own, made for it, where it is pid 1: its ids, and its
     * threads', are its own, so that a restore anywhere gives it the same ones (vids).
     */
    public record OwnNamespaces() implements Placement {
    }

    /**
     * hotclone's own namespaces (a restore of a program checkpointed outside namespaces of its
     * own), with pid {@code pid} if it is free on this node (0: any).
     */
    public record SharedNamespaces(int pid) implements Placement {
    }

    /** The ptrace options of a held program: it stops at system calls and at its execve, and dies with its tracer. */
    public static final long OPTIONS = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

    private static final String STOP_THEN_EXEC = "kill -STOP $$; exec \"$0\" \"$@\"";

    private HeldStart() {
    }

    /**
     * Starts {@code argv} (its first element is the program, searched in PATH when it has no
     * '/'), placed as {@code placement} says. Returns the seized tracee stopped right after its
     * execve, with {@code lifetime} set; the calling thread is its tracer.
     */
    public static Tracee start(List<String> argv, List<String> environment, Spawn.Group group, Lifetime lifetime,
                               Placement placement) {
        List<String> shell = new ArrayList<>(List.of("/bin/sh", "-c", STOP_THEN_EXEC));
        shell.addAll(argv);
        int pid = Spawn.spawn("/bin/sh", shell, environment, group);
        Tracee tracee;
        try {
            awaitStopped(pid);
            tracee = Tracee.seize(pid, OPTIONS);
        } catch (RuntimeException e) {
            kill(pid);
            throw e;
        }
        boolean reaped = false;
        try {
            Spawn.kill(pid, SIGCONT);
            while (true) {
                WaitStatus s = tracee.await();
                if (s.gone()) {
                    reaped = true;
                    throw new HotcloneException("could not start " + argv.getFirst() + ": the shell that execs it "
                            + s + " (its message above says why; check the program's path and permissions)");
                }
                if (s.stopped() && s.event() == PTRACE_EVENT_EXEC) {
                    break;
                }
                tracee.cont(0);
            }
            // Step out of execve so that the next resume runs an injected call.
            tracee.syscall(0);
            WaitStatus s = tracee.await();
            if (!s.syscallStop()) {
                throw new HotcloneException("process " + pid + " " + s + " instead of leaving execve");
            }
            Tracee held = switch (placement) {
                case OwnNamespaces own -> copy(tracee, group, true, 0);
                case SharedNamespaces shared when shared.pid() != 0 && shared.pid() != pid ->
                        copy(tracee, group, false, shared.pid());
                case SharedNamespaces any -> tracee;
            };
            if (held != tracee) {
                kill(pid);
                reaped = true;
                tracee.close();
            }
            if (lifetime == Lifetime.TIED) {
                try {
                    tie(held);
                } catch (RuntimeException e) {
                    if (held != tracee) {
                        kill(held.tid());
                        held.close();
                    }
                    throw e;
                }
            }
            return held;
        } catch (RuntimeException e) {
            if (!reaped) {
                kill(pid);
            }
            tracee.close();
            throw e;
        }
    }

    /**
     * Starts {@code argv} as {@link #start} does, in namespaces of its own, and lets it run,
     * untraced; returns its pid (as this node knows it).
     */
    public static int run(List<String> argv, List<String> environment, Spawn.Group group, Lifetime lifetime) {
        try (Tracee held = start(argv, environment, group, lifetime, new OwnNamespaces())) {
            return held.tid();
        }
    }

    /**
     * Makes a copy of the held program {@code outer}, held the same way: in new PID, IPC and UTS
     * namespaces as their first process (pid 1) if {@code namespaces}, else with pid {@code pid}
     * (clone3 set_tid); {@code outer} unshares them for its children and forks. The copy, made a
     * child of this hotclone (CLONE_PARENT) as the program was, gets {@code outer}'s registers and
     * signal mask, and no trace of the calls. The caller disposes of {@code outer}; if the pid is
     * taken, there is no copy and {@code outer} is returned (the caller sees the pid differ).
     */
    private static Tracee copy(Tracee outer, Spawn.Group group, boolean namespaces, int pid) {
        try (RemoteSyscalls remote = RemoteSyscalls.infect(outer, new ProcFs(outer.tid()).maps(), 0);
             Arena arena = Arena.ofConfined()) {
            if (namespaces) {
                remote.check("unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)", SYS_unshare,
                        CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS);
            }
            MemorySegment args = clone_args.allocate(arena);
            clone_args.flags(args, CLONE_PARENT); // its exit signal is the outer one's: SIGCHLD
            if (pid != 0) {
                MemorySegment ids = arena.allocate(ValueLayout.JAVA_INT);
                ids.set(ValueLayout.JAVA_INT, 0, pid);
                clone_args.set_tid(args, remote.put(clone_args.sizeof(), ids));
                clone_args.set_tid_size(args, 1);
            }
            // clone3 takes no exit signal with CLONE_PARENT, so ptrace reports a clone, not a fork.
            outer.setOptions(OPTIONS | PTRACE_O_TRACECLONE);
            int child;
            try {
                child = remote.callCloning("clone3(CLONE_PARENT" + (pid != 0 ? ", set_tid=" + pid : "") + ")",
                        SYS_clone3, remote.put(0, args), clone_args.sizeof());
            } catch (SyscallException e) {
                if (e.errno() != EEXIST) {
                    throw e;
                }
                outer.setOptions(OPTIONS);
                return outer;
            }
            Tracee inner = Tracee.autoAttached(child);
            try {
                inner.awaitInterruptStop();
                inner.setOptions(OPTIONS);
                try (RemoteSyscalls copy = RemoteSyscalls.borrow(inner, remote.gadget())) {
                    copy.check("munmap(scratch)", SYS_munmap, remote.scratch(), RemoteSyscalls.SCRATCH_SIZE);
                    switch (group) {
                        case OWN_SESSION -> copy.check("setsid", SYS_setsid);
                        case OWN_GROUP -> copy.check("setpgid(0, 0)", SYS_setpgid, 0, 0);
                        case INHERIT -> { }
                    }
                    copy.cure(remote.savedRegisters(), remote.savedSigmask(), true);
                }
                return inner;
            } catch (RuntimeException e) {
                kill(child);
                inner.close();
                throw e;
            }
        }
    }

    /**
     * PR_SET_PDEATHSIG(SIGKILL) in the program. Then its parent, as prctl(2) advises: a parent
     * that ended before the call would leave the program without the signal, reparented. (Read
     * from /proc: inside a namespace of its own, getppid says 0.)
     */
    private static void tie(Tracee tracee) {
        try (RemoteSyscalls remote = RemoteSyscalls.infect(tracee, new ProcFs(tracee.tid()).maps(), 0)) {
            remote.check("prctl(PR_SET_PDEATHSIG, SIGKILL)", SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
            long parent = new ProcFs(tracee.tid()).stat().ppid();
            if (parent != ProcessHandle.current().pid()) {
                throw new HotcloneException("process " + tracee.tid() + " has parent " + parent + ", not this hotclone ("
                        + ProcessHandle.current().pid() + "): it could not be tied to it, and was killed");
            }
        }
    }

    private static void awaitStopped(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            if (Libc.waitpid(callState, pid, status, WUNTRACED) != pid) {
                throw new SyscallException("waitpid(" + pid + ", WUNTRACED)", Libc.errno(callState));
            }
            WaitStatus s = new WaitStatus(pid, status.get(ValueLayout.JAVA_INT, 0));
            if (!s.stopped()) {
                throw new HotcloneException("the shell that starts the program " + s + " before it could be seized");
            }
        }
    }

    /** Kills the process and reaps it, so that no zombie is left behind. */
    public static void kill(int pid) {
        Spawn.kill(pid, SIGKILL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(Libc.callStateLayout());
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (Libc.waitpid(callState, pid, status, __WALL) == pid
                    && new WaitStatus(pid, status.get(ValueLayout.JAVA_INT, 0)).stopped()) {
                // a ptrace stop reported before the kill took effect: wait on
            }
        }
    }
}
