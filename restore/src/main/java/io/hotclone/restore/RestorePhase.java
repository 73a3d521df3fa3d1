package io.hotclone.restore;

/** The phases of one restore, in order. A failure in any phase leads to {@link #ABORT_RESTORE}. */
public enum RestorePhase {
    /**
     * Entered with a committed image chosen. Checks the image against this machine (format,
     * architecture, page size, kernel, xsave features) and every file it refers to, so that an
     * unsuitable image is refused before any process exists; then starts the host process: the
     * program's own executable, stopped by ptrace at its exec, before any of its code runs.
     */
    PRE_RESTORE,
    /**
     * Entered with the host process stopped after its exec and taken over by injected system
     * calls. Rebuilds the address space (unmap all, move the vDSO, map every area, fill pages,
     * set protections and mm fields), then files, then signal state and limits. Order matters:
     * memory first, since everything else points into it; the signal mask and registers last,
     * since the injected calls need their own.
     */
    RESTORE,
    /**
     * Entered when the process holds the whole image: registers and xstate are installed and
     * the process is let go. It runs from the instruction where it was checkpointed.
     */
    POST_RESTORE,
    /** Entered from any phase on failure: the half-built process is killed; nothing runs. */
    ABORT_RESTORE
}
