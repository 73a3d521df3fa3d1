package io.hotclone.capture.memory;

import io.hotclone.journal.PageSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds the pages of a checkpoint in memory while the program is frozen, so that it can run
 * again before they are written to the journal: the freeze then costs one copy at memory
 * speed, not the journal's append. Past {@code limit} bytes it stops holding and passes pages
 * straight on (in order, after what it held), so memory stays bounded whatever a checkpoint
 * carries. Reused from one checkpoint to the next; thread-confined.
 */
public final class PageStage implements PageSink, AutoCloseable {
    private record Run(long address, long offset, long length) {
    }

    private final Arena arena = Arena.ofConfined();
    private final long limit;
    private final List<Run> runs = new ArrayList<>();
    private MemorySegment buffer;
    private long used;
    private PageSink target;

    public PageStage(long limit) {
        this.limit = limit;
        this.buffer = MemorySegment.NULL;
    }

    /** Starts holding the pages of one checkpoint, bound for {@code target}. */
    public void begin(PageSink target) {
        this.target = target;
        runs.clear();
        used = 0;
    }

    @Override
    public void accept(long address, MemorySegment contents) {
        long length = contents.byteSize();
        if (used + length > limit) {
            drain();
            target.accept(address, contents);
            return;
        }
        ensure(used + length);
        MemorySegment.copy(contents, 0, buffer, used, length);
        runs.add(new Run(address, used, length));
        used += length;
    }

    /** Passes on every page held so far; call once the program runs again. */
    public void drain() {
        for (Run r : runs) {
            target.accept(r.address(), buffer.asSlice(r.offset(), r.length()));
        }
        runs.clear();
        used = 0;
    }

    private void ensure(long size) {
        if (buffer.byteSize() < size) {
            MemorySegment bigger = arena.allocate(Math.min(limit, Math.max(size, buffer.byteSize() * 2)), 4096);
            MemorySegment.copy(buffer, 0, bigger, 0, used);
            buffer = bigger;
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
