/**
 * The image of a program, kind by kind: each kind of state is a record listing exactly what is
 * saved, with its dump (from a live process) and its restore (into one) beside it, and its
 * journal codec derived from its components ({@link io.hotclone.image.RecordCodec}). The record
 * types of the journal are the sealed {@link io.hotclone.image.ImageRecord} hierarchy.
 *
 * <p>Nothing that cannot travel (fds, locks, memory segments) is ever in a record. Pages travel
 * apart from these records (see {@code io.hotclone.journal.PageSink}).
 */
package io.hotclone.image;
