package io.hotclone.process.launch;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.process.ptrace.WaitStatus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Prctl.PR_SET_PDEATHSIG;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_EXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_EXITKILL;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACEEXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static io.hotclone.bindings.linux.Signal.SIGCONT;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_getppid;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;
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

    /** The ptrace options of a held program: it stops at system calls and at its execve, and dies with its tracer. */
    public static final long OPTIONS = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

    private static final String STOP_THEN_EXEC = "kill -STOP $$; exec \"$0\" \"$@\"";

    private HeldStart() {
    }

    /**
     * Starts {@code argv} (its first element is the program, searched in PATH when it has no
     * '/'). Returns the seized tracee stopped right after its execve, with {@code lifetime} set;
     * the calling thread is its tracer.
     */
    public static Tracee start(List<String> argv, List<String> environment, Spawn.Group group, Lifetime lifetime) {
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
            if (lifetime == Lifetime.TIED) {
                tie(tracee);
            }
            return tracee;
        } catch (RuntimeException e) {
            if (!reaped) {
                kill(pid);
            }
            tracee.close();
            throw e;
        }
    }

    /** Starts {@code argv} as {@link #start} does and lets it run, untraced; returns its pid. */
    public static int run(List<String> argv, List<String> environment, Spawn.Group group, Lifetime lifetime) {
        try (Tracee held = start(argv, environment, group, lifetime)) {
            return held.tid();
        }
    }

    /**
     * PR_SET_PDEATHSIG(SIGKILL) in the program. Then getppid, as prctl(2) advises: a parent
     * that ended before the call would leave the program without the signal, reparented.
     */
    private static void tie(Tracee tracee) {
        try (RemoteSyscalls remote = RemoteSyscalls.infect(tracee, new ProcFs(tracee.tid()).maps(), 0)) {
            remote.check("prctl(PR_SET_PDEATHSIG, SIGKILL)", SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
            long parent = remote.check("getppid", SYS_getppid);
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
