package io.hotclone.image;

/**
 * A descriptor the program shares with the hotclone that runs it (its stdin, stdout or stderr:
 * a terminal, a pipe, a log file the operator redirected). It is not reopened but handed over:
 * a restore gives the program the same descriptor of the hotclone that restores it.
 *
 * @param hostFd which of hotclone's descriptors (0, 1 or 2) it is
 * @param path   what it was, for people reading the journal
 */
@Tag(value = 9, version = 1, name = "inherited-fd")
public record InheritedFd(int fd, int flags, boolean closeOnExec, int hostFd, String path) implements FdState {
}
