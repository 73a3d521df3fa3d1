package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;

/**
 * The traced process ended while hotclone worked on it. Its wait status was consumed by the
 * tracer's waitpid, so it travels here to whoever must report the program's exit.
 */
public final class ProcessGoneException extends HotcloneException {
    private final transient WaitStatus status;

    public ProcessGoneException(WaitStatus status, String doing) {
        super("process " + status.pid() + " " + status + " while hotclone was " + doing);
        this.status = status;
    }

    public WaitStatus status() {
        return status;
    }
}
