package io.hotclone.image;

/** The kernel's struct sigaction for one signal whose disposition is not the default. */
public record SigactionState(int signal, long handler, long flags, long restorer, long mask) {
}
