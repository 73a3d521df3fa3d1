package io.hotclone.process;

/**
 * A thread's robust futex list registration (set_robust_list(2)): the head glibc keeps in
 * the thread's descriptor and its size, which the kernel walks when the thread dies.
 */
public record RobustList(long head, long length) {
}
