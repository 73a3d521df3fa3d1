package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.capture.launch.Spawn;
import io.hotclone.capture.ptrace.Tracee;
import io.hotclone.capture.ptrace.WaitStatus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_EXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_EXITKILL;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACEEXEC;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static io.hotclone.bindings.linux.Signal.SIGCONT;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.Wait.WUNTRACED;
import static io.hotclone.bindings.linux.Wait.__WALL;

/**
 * The process a restore fills: the program's own executable, exec'd by a shell that stopped
 * itself first so hotclone could seize it, and held at the end of the exec, before any of the
 * program's code has run. Its /proc/PID/exe and comm are thus already the program's.
 *
 * <p>It is started with {@link Spawn}, so it inherits hotclone's stdio and nothing else of
 * the JVM.
 */
final class HostProcess {
    private static final String STOP_THEN_EXEC = "kill -STOP $$; exec \"$0\"";

    private HostProcess() {
    }

    /**
     * Starts {@code exe} stopped. Returns the seized tracee in the syscall-exit stop of its
     * execve; the calling thread is its tracer.
     */
    static Tracee start(String exe, boolean newSession) {
        int pid = Spawn.spawn("/bin/sh", List.of("/bin/sh", "-c", STOP_THEN_EXEC, exe), List.of(),
                newSession ? Spawn.Group.OWN_SESSION : Spawn.Group.INHERIT);
        Tracee tracee;
        try {
            awaitStopped(pid);
            tracee = Tracee.seize(pid, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
        } catch (RuntimeException e) {
            kill(pid);
            throw e;
        }
        try {
            Spawn.kill(pid, SIGCONT);
            while (true) {
                WaitStatus s = tracee.await();
                if (s.gone()) {
                    throw new HotcloneException("could not exec " + exe + " to host the restored program: it " + s);
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
            return tracee;
        } catch (RuntimeException e) {
            kill(pid);
            tracee.close();
            throw e;
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
                throw new HotcloneException("the shell that hosts the restore " + s + " before it could be seized");
            }
        }
    }

    /** Kills the process and reaps it, so that no zombie is left behind. */
    static void kill(int pid) {
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
