package io.hotclone.bindings;

import io.hotclone.bindings.linux.Errno;

/**
 * A libc call or system call that failed: names the call with the arguments that identify its
 * resource, and the errno, as in {@code ptrace(PTRACE_SEIZE, pid=123) failed: ESRCH (No such process)}.
 */
public class SyscallException extends HotcloneException {
    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        this(call, errno, null);
    }

    /** {@code hint}, if not null, says what the user can do and ends the message. */
    public SyscallException(String call, int errno, String hint) {
        super(call + " failed: " + errnoName(errno) + " (" + Native.strerror(errno) + ")" + (hint == null ? "" : ": " + hint));
        this.call = call;
        this.errno = errno;
    }

    /** The call and the arguments that identify its resource, e.g. {@code ptrace(PTRACE_SEIZE, pid=123)}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    /** The C name of {@link #errno()}, e.g. {@code ESRCH}. */
    public String errnoName() {
        return errnoName(errno);
    }

    static String errnoName(int errno) {
        String name = Errno.name(errno);
        return name != null ? name : "errno " + errno;
    }
}
