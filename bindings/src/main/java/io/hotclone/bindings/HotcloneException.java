package io.hotclone.bindings;

/**
 * A failure hotclone reports to its user: the message says what failed, on which resource
 * (pid, fd, address, path), and what the user can do about it. The launcher prints the message
 * alone, without a stack trace, and exits non-zero.
 */
public class HotcloneException extends RuntimeException {
    public HotcloneException(String message) {
        super(message);
    }

    public HotcloneException(String message, Throwable cause) {
        super(message, cause);
    }
}
