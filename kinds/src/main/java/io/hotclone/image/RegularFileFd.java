package io.hotclone.image;

import io.hotclone.process.FileIdentity;

/** A regular file: reopened by path with its flags, at its offset, after an identity check. */
@Tag(value = 5, version = 1, name = "regular-file-fd")
public record RegularFileFd(int fd, int flags, boolean closeOnExec, String path, long offset,
                            FileIdentity identity) implements FdState {
}
