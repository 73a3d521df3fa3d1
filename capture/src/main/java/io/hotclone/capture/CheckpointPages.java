package io.hotclone.capture;

import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.memory.PageBatches;
import io.hotclone.capture.memory.PageDumper;
import io.hotclone.image.MemoryArea;

import java.util.List;
import java.util.function.Supplier;

/**
 * What a {@link PageCapture} works with in one checkpoint: the program's areas and which of
 * their pages the checkpoint carries, the chain's dumper and stage, the checkpoint's journal
 * append (begun at its first use), and the tracer's work to run while it waits.
 *
 * <p>Thread confinement: the checkpoint's thread.
 */
final class CheckpointPages {
    private final int pid;
    /** Null for a one-shot checkpoint. */
    private final Chain chain;
    /** What the chain keeps of the process; null for a one-shot checkpoint. */
    private final ProcessChain process;
    private final long seq;
    private final List<MemoryArea> areas;
    /** The pages written since the chain's last checkpoint, or null for a full checkpoint. */
    private final DirtySet dirty;
    private final Supplier<AppendRing.Append> begin;
    private final Runnable serve;
    private AppendRing.Append append;

    CheckpointPages(int pid, Chain chain, ProcessChain process, long seq, List<MemoryArea> areas, DirtySet dirty,
                    Supplier<AppendRing.Append> begin, Runnable serve) {
        this.pid = pid;
        this.chain = chain;
        this.process = process;
        this.seq = seq;
        this.areas = areas;
        this.dirty = dirty;
        this.begin = begin;
        this.serve = serve;
    }

    List<MemoryArea> areas() {
        return areas;
    }

    Chain chain() {
        return chain;
    }

    /** Runs the tracer's work, which must not wait. */
    void serve() {
        serve.run();
    }

    /** The checkpoint's journal append: the process's records, sent at the first call (and the header before them if none went yet). */
    AppendRing.Append append() {
        if (append == null) {
            append = begin.get();
        }
        return append;
    }

    /** Hands the pages of {@code which} to {@code sink}, read from the program; returns how many. */
    long readProgram(List<MemoryArea> which, PageBatches sink) {
        return read(process != null ? process.dumper() : null, pid, which, sink);
    }

    /** Hands the pages of {@code which} to {@code sink}, read from the program's copy {@code copyPid}; returns how many. */
    long readCopy(int copyPid, List<MemoryArea> which, PageBatches sink) {
        return read(null, copyPid, which, sink);
    }

    /** @param kept the program's kept dumper, or null for a dumper of this read only */
    private long read(PageDumper kept, int from, List<MemoryArea> which, PageBatches sink) {
        PageDumper d = kept != null ? kept : new PageDumper(from);
        try {
            return dirty != null
                    ? d.dumpChanges(which, seq, process.areas(), dirty, process.untracked(), sink)
                    : d.dump(which, sink);
        } finally {
            if (kept == null) {
                d.close();
            }
        }
    }
}
