package io.hotclone.journal;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;

/** The journal cannot be created, opened or read: the message names the directory (and the seq,
 *  queue index and record type when one record is at fault) and what to do. */
public class JournalException extends HotcloneException {
    public JournalException(String message) {
        super(message);
    }

    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An I/O failure as a journal message quotes it: its kind and message. */
    static String describe(IOException e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
