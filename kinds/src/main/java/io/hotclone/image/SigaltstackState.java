package io.hotclone.image;

/** A thread's alternate signal stack (stack_t). */
public record SigaltstackState(long sp, int flags, long size) {
}
