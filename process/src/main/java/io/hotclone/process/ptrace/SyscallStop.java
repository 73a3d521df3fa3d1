package io.hotclone.process.ptrace;

/**
 * The system call a traced thread is stopped at, entering or leaving it.
 *
 * @param entry    entering it (else leaving it)
 * @param native64 made through the x86-64 system call table (not the 32-bit int 0x80 one)
 * @param nr       the call, when entering
 * @param args     its six arguments, when entering (null when leaving)
 * @param result   what it returns, when leaving: -errno on failure
 */
public record SyscallStop(boolean entry, boolean native64, long nr, long[] args, long result) {
}
