package io.hotclone.process;

/** What a file was when it was captured; a restore refuses a file whose identity changed. */
public record FileIdentity(long device, long inode, long size, long mtimeNanos) {
}
