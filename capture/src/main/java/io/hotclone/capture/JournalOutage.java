package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

/**
 * Protection ended: the journal took no checkpoint for longer than the run allows, and the
 * program was killed rather than run on unprotected (a standby takes over from its last
 * replicated checkpoint).
 */
public final class JournalOutage extends HotcloneException {
    JournalOutage(String message, Throwable cause) {
        super(message, cause);
    }
}
