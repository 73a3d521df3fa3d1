package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

/**
 * A checkpoint the journal could not take (its disk full or read-only, an I/O error, its
 * appender stopped): the checkpoint stays uncommitted, and protection resumes once the journal
 * takes checkpoints again.
 */
public final class JournalFailure extends HotcloneException {
    JournalFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
