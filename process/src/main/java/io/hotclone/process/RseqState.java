package io.hotclone.process;

/** A thread's rseq registration, as PTRACE_GET_RSEQ_CONFIGURATION reads it. */
public record RseqState(long address, int length, int flags, int signature) {
}
