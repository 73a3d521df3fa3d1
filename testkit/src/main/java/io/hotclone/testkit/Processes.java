package io.hotclone.testkit;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Any process by pid, our child or not: kill(2) through FFM, and its state from
 * /proc/PID/stat. The kit does not use the bindings module, so that its tests stay apart.
 */
final class Processes {
    static final int ESRCH = 3;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final MethodHandle KILL = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("kill"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));

    private Processes() {
    }

    /** kill(pid, signal): 0, or the errno it failed with. */
    static int kill(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callState = arena.allocate(CALL_STATE);
            int result = (int) KILL.invokeExact(callState, pid, signal);
            return result == 0 ? 0 : (int) ERRNO.get(callState, 0L);
        } catch (Throwable e) {
            throw new IllegalStateException("kill(" + pid + ", " + signal + ") could not be called", e);
        }
    }

    /**
     * Whether the process exists and is not a zombie. Zombies count as gone: the detached
     * programs are children of init, which here reaps them only some time later.
     */
    static boolean isRunning(int pid) {
        return statFields(pid).filter(f -> !f[0].equals("Z") && !f[0].equals("X")).isPresent();
    }

    /** The parent's pid, or empty when the process is gone. */
    static OptionalInt parent(int pid) {
        return statFields(pid).map(f -> OptionalInt.of(Integer.parseInt(f[1]))).orElse(OptionalInt.empty());
    }

    /** The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ... */
    private static Optional<String[]> statFields(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            // The command name may hold spaces and parentheses: the fields follow the last ')'.
            return Optional.of(stat.substring(stat.lastIndexOf(')') + 2).split(" "));
        } catch (IOException e) {
            return Optional.empty(); // gone, or vanishing while read
        }
    }
}
