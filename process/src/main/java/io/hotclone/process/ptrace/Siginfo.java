package io.hotclone.process.ptrace;

/**
 * What hotclone reads of a signal about to be delivered to a traced thread.
 *
 * @param signal  its number
 * @param code    si_code: SI_USER, SI_TKILL, SI_KERNEL, or the kind of fault (SEGV_ACCERR ...)
 * @param sender  si_pid, the sending process of a signal sent by kill(2) or tgkill(2)
 * @param address si_addr, the faulting address of SIGSEGV and SIGBUS
 * @param wakeUp  whether it is this hotclone's {@link WakeUp}
 */
public record Siginfo(int signal, int code, int sender, long address, boolean wakeUp) {
}
