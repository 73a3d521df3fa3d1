package io.hotclone.image;

/** One open file descriptor of the program; each kind of file is a permitted record. */
public sealed interface FdState extends ImageRecord permits RegularFileFd, DeviceFd, InheritedFd {
    /** The descriptor number in the program. */
    int fd();

    /** The open flags (O_ACCMODE, O_APPEND, O_NONBLOCK ...) as /proc/PID/fdinfo shows them. */
    int flags();

    /** Whether FD_CLOEXEC is set. */
    boolean closeOnExec();
}
