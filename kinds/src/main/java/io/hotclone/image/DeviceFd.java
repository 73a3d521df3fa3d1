package io.hotclone.image;

/** A stateless character device (/dev/null, /dev/zero, /dev/urandom ...): reopened by path. */
@Tag(value = 6, version = 1, name = "device-fd")
public record DeviceFd(int fd, int flags, boolean closeOnExec, String path, long rdev)
        implements FdState {
}
