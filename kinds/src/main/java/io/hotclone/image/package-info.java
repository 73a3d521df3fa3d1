/**
 * The image of a program: state records that a checkpoint saves and a restore consumes.
 *
 * <p>Every field here is saved because it is listed; nothing that cannot travel (fds, locks,
 * memory segments) is ever in a record. Pages travel apart from these records (see
 * {@code io.hotclone.journal.PageSink}).
 */
package io.hotclone.image;
