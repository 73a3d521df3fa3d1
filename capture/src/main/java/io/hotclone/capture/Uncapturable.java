package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

/**
 * A program that cannot be checkpointed as it is now (under --dirty-tracking mprotect, it has threads or
 * child processes), though
 * it may be again once they are gone: its protection waits for that.
 */
public final class Uncapturable extends HotcloneException {
    Uncapturable(String message) {
        super(message);
    }
}
