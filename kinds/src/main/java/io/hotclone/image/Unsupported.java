package io.hotclone.image;

/** Names, for an error message, the kind of file behind a /proc/PID/fd link. */
final class Unsupported {
    private Unsupported() {
    }

    static String describe(String target) {
        if (target.startsWith("pipe:")) {
            return "a pipe (" + target + ")";
        }
        if (target.startsWith("socket:")) {
            return "a socket (" + target + ")";
        }
        if (target.startsWith("anon_inode:")) {
            return "an anonymous-inode file (" + target.substring("anon_inode:".length()) + ")";
        }
        if (target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console")
                || target.equals("/dev/ptmx")) {
            return "a terminal (" + target + "); run the program with stdin, stdout and stderr"
                    + " redirected to files or /dev/null";
        }
        if (target.endsWith(" (deleted)")) {
            return "a deleted file (" + target + ")";
        }
        return "an unsupported file (" + target + ")";
    }
}
