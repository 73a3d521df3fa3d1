package io.hotclone.process.ptrace;

import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_STOP;
import static io.hotclone.bindings.linux.Signal.SIGTRAP;

/** A wait status as waitpid(2) reports it for a tracee, decoded. */
public record WaitStatus(int pid, int raw) {
    public boolean exited() {
        return (raw & 0x7f) == 0;
    }

    public int exitCode() {
        return (raw >> 8) & 0xff;
    }

    public boolean killed() {
        return !exited() && !stopped();
    }

    public int termSignal() {
        return raw & 0x7f;
    }

    public boolean stopped() {
        return (raw & 0xff) == 0x7f;
    }

    /** The signal of a stop; SIGTRAP | 0x80 for a syscall stop under PTRACE_O_TRACESYSGOOD. */
    public int stopSignal() {
        return (raw >> 8) & 0xff;
    }

    /** The PTRACE_EVENT_* of an event stop, 0 for other stops. */
    public int event() {
        return raw >>> 16;
    }

    public boolean syscallStop() {
        return stopped() && stopSignal() == (SIGTRAP | 0x80);
    }

    /** A PTRACE_INTERRUPT or group stop of a seized tracee. */
    public boolean interruptStop() {
        return stopped() && event() == PTRACE_EVENT_STOP;
    }

    /** A signal about to be delivered to the tracee, which the tracer may suppress or pass on. */
    public boolean signalDeliveryStop() {
        return stopped() && event() == 0 && stopSignal() != (SIGTRAP | 0x80);
    }

    public boolean gone() {
        return exited() || killed();
    }

    @Override
    public String toString() {
        if (exited()) {
            return "exited with status " + exitCode();
        }
        if (killed()) {
            return "killed by signal " + termSignal();
        }
        if (syscallStop()) {
            return "syscall stop";
        }
        return "stopped by signal " + stopSignal() + (event() != 0 ? " event " + event() : "");
    }
}
