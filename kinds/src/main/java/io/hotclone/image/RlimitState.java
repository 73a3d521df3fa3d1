package io.hotclone.image;

/** One resource limit (RLIMIT_*), as prlimit64 reads it. */
public record RlimitState(int resource, long soft, long hard) {
}
