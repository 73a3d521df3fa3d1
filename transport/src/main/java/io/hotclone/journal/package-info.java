/**
 * The checkpoint journal: a Chronicle Queue of records in Chronicle's binary wire, one record per
 * queue document, each an {@code Envelope} (CRC32C, type tag, type version, epoch, seq) and a
 * payload. A checkpoint is its header, its metadata and page records, and its commit; it exists
 * only once committed. Pages travel as raw bytes, read back as views of the mapped queue file.
 *
 * <p>Public: {@link io.hotclone.journal.Journal}, {@link io.hotclone.journal.CheckpointWriter},
 * {@link io.hotclone.journal.PageSink}, {@link io.hotclone.journal.JournalFormat}'s constants and
 * the records they return; for replication (see {@code io.hotclone.replication}),
 * {@link io.hotclone.journal.RecordTailer} reads a primary's raw records and
 * {@link io.hotclone.journal.ReplicaWriter} appends them to a standby's journal. The rest is the
 * format, and the package-private classes that do Journal's jobs (listed in its comment): each
 * depends only on those below it, never on Journal or on the writers and tailers it makes.
 *
 * <p>Adding a record type (for instance a new {@code FdState} kind) takes nothing here: the
 * record types and their codecs come from {@code ImageRecord}'s hierarchy (the recipe is in
 * CONTRIBUTING.md, "A new kind of state").
 */
package io.hotclone.journal;
