package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import io.hotclone.image.ImageHeader;
import io.hotclone.journal.JournalScan.Entry;
import io.hotclone.journal.VerifyReport.Loss;
import io.hotclone.journal.VerifyReport.Problem;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * What a journal holds, by seq: its committed checkpoints and where their records lie, the
 * damaged ones and what the opening scan found lost. Built by the opening scan, extended by the
 * journal's writers, cut by retention. Thread-safe.
 */
final class JournalIndex {
    private final Path dir;
    private final JournalFiles files;
    private final NavigableMap<Long, Entry> committed = new TreeMap<>();
    private final Map<Long, Problem> damaged = new HashMap<>();
    /** What the opening scan found lost with missing or truncated queue files. */
    private final List<Loss> losses;
    /** The highest seq seen, committed or not. */
    private long maxSeq;

    JournalIndex(Path dir, JournalFiles files, JournalScan scan) {
        this.dir = dir;
        this.files = files;
        scan.committed.forEach(e -> committed.put(e.header().seq(), e));
        damaged.putAll(scan.damaged);
        losses = List.copyOf(scan.losses);
        maxSeq = scan.maxSeq;
    }

    List<Loss> losses() {
        return losses;
    }

    synchronized int damagedCount() {
        return damaged.size();
    }

    synchronized long nextSeq() {
        return maxSeq + 1;
    }

    /** @throws IllegalArgumentException if {@code header} is not of the next seq */
    synchronized void checkNext(ImageHeader header) {
        if (header.seq() != maxSeq + 1) {
            throw new IllegalArgumentException("checkpoint seq " + header.seq() + " cannot begin: the next seq of journal "
                    + dir + " is " + (maxSeq + 1));
        }
    }

    /** @throws IllegalArgumentException if {@code header}'s base is not -1 for a full checkpoint, a committed one for an incremental */
    synchronized void checkBase(ImageHeader header) {
        boolean baseOk = header.kind() == CheckpointKind.FULL
                ? header.baseSeq() == -1
                : committed.containsKey(header.baseSeq());
        if (!baseOk) {
            throw new IllegalArgumentException(header.kind() + " checkpoint seq " + header.seq() + " has base seq "
                    + header.baseSeq() + ": a full checkpoint has base -1, an incremental one a committed checkpoint");
        }
    }

    /** Checkpoint {@code seq} began: its seq is taken, committed or not. */
    synchronized void began(long seq) {
        maxSeq = seq;
    }

    /** Indexes a checkpoint just committed, and lists its queue files. */
    synchronized void add(Entry entry) {
        committed.put(entry.header().seq(), entry);
        files.list(entry);
    }

    /** Takes on what {@code scan}, carried on over replicated records, has seen since. */
    synchronized void follow(JournalScan scan) {
        maxSeq = scan.maxSeq;
        scan.damaged.forEach(damaged::putIfAbsent);
    }

    synchronized List<CheckpointSummary> checkpoints() {
        return committed.values().stream().map(Entry::summary).toList();
    }

    synchronized List<CheckpointSummary> checkpointsAfter(long seq) {
        return committed.tailMap(seq, false).values().stream().map(Entry::summary).toList();
    }

    synchronized Optional<CheckpointMark> lastCommit() {
        return committed.isEmpty() ? Optional.empty() : Optional.of(committed.lastEntry().getValue().mark());
    }

    synchronized boolean holds(CheckpointMark mark) {
        Entry entry = committed.get(mark.seq());
        return entry != null && entry.mark().equals(mark);
    }

    synchronized OptionalLong chainBase() {
        return committed.isEmpty() ? OptionalLong.empty() : chainBase(committed.lastEntry().getValue());
    }

    /** The committed full checkpoint {@code entry}'s chain starts at, or empty if the chain is broken. */
    private OptionalLong chainBase(Entry entry) {
        ImageHeader h = entry.header();
        while (h.kind() == CheckpointKind.INCREMENTAL) {
            Entry base = committed.get(h.baseSeq());
            if (base == null) {
                return OptionalLong.empty();
            }
            h = base.header();
        }
        return OptionalLong.of(h.seq());
    }

    /** The seq of the newest committed checkpoint. @throws JournalException if there is none */
    synchronized long lastSeq() {
        if (committed.isEmpty()) {
            throw new JournalException("journal " + dir + " holds no committed checkpoint yet");
        }
        return committed.lastKey();
    }

    /** Committed checkpoint {@code seq}. @throws JournalException if it is damaged or not there */
    synchronized Entry entry(long seq) {
        Entry entry = committed.get(seq);
        if (entry != null) {
            return entry;
        }
        Problem problem = damaged.get(seq);
        if (problem != null) {
            throw new JournalException("checkpoint seq " + seq + " of journal " + dir + " is damaged: " + problem
                    + "; restore an earlier checkpoint (`hotclone journal verify " + dir + "` lists every problem)");
        }
        throw new JournalException("journal " + dir + " has no committed checkpoint seq " + seq + " (it holds "
                + (committed.isEmpty() ? "none" : committed.size() + " from seq " + committed.firstKey() + " to "
                + committed.lastKey()) + ")");
    }

    /** Committed full checkpoint {@code fullSeq}. @throws IllegalArgumentException if it is not one */
    synchronized Entry full(long fullSeq) {
        Entry full = committed.get(fullSeq);
        if (full == null || full.header().kind() != CheckpointKind.FULL) {
            throw new IllegalArgumentException("journal " + dir + " has no committed full checkpoint seq " + fullSeq
                    + " to drop the cycles before");
        }
        return full;
    }

    /** Forgets what began before roll cycle {@code keepFrom}, whose files are gone, and what builds on it;
     *  the rest is still restorable. */
    synchronized void forgetBefore(int keepFrom) {
        committed.values().removeIf(e -> files.cycleOf(e.firstIndex()) < keepFrom);
        List<Long> broken = committed.values().stream().filter(e -> chainBase(e).isEmpty()).map(e -> e.header().seq()).toList();
        broken.forEach(committed::remove);
        long oldest = committed.firstKey();
        damaged.keySet().removeIf(seq -> seq < oldest);
    }

    synchronized NewestSound newestSound() {
        OptionalLong sound = committed.descendingKeySet().stream().filter(this::chainWhole).mapToLong(Long::longValue)
                .findFirst();
        if (sound.isEmpty()) {
            throw new JournalException("journal " + dir + " holds no restorable checkpoint: `hotclone journal verify "
                    + dir + "` says what it holds");
        }
        long seq = sound.getAsLong();
        Optional<String> passedOver = damaged.entrySet().stream().filter(d -> d.getKey() > seq)
                .max(Map.Entry.comparingByKey()).map(d -> "the newest checkpoint seq " + d.getKey() + " is damaged ("
                        + d.getValue() + ")")
                .or(() -> committed.lastKey() > seq ? Optional.of("the newest checkpoint seq " + committed.lastKey()
                        + " cannot be restored (the chain of incremental checkpoints it builds on is broken)")
                        : Optional.empty())
                .or(() -> losses.stream().filter(l -> l.afterSeq() >= seq).findFirst()
                        .map(l -> "records after checkpoint seq " + seq + " are lost (" + l + ")"));
        return new NewestSound(seq, passedOver);
    }

    /** Whether committed checkpoint {@code seq} leads, through committed ones, to a full checkpoint. */
    private boolean chainWhole(long seq) {
        return chainBase(committed.get(seq)).isPresent();
    }
}
