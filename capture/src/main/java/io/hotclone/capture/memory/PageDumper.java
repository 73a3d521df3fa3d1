package io.hotclone.capture.memory;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.ptrace.RemoteMemory;
import io.hotclone.image.MemoryArea;
import io.hotclone.journal.CheckpointWriter;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Copies the pages a checkpoint must carry from a frozen process into the journal, in batches
 * of up to {@link #BATCH_BYTES} gathered from scattered runs by one process_vm_readv.
 */
public final class PageDumper implements AutoCloseable {
    static final int PAGE = 4096;
    /** A batch fills a journal page record at most: fewer, larger records make a cheaper append. */
    static final int BATCH_BYTES = io.hotclone.journal.Journal.MAX_RUN_BYTES;

    private final int pid;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(BATCH_BYTES, PAGE);
    private final RemoteMemory memory;
    private final Pagemap pagemap;
    private final long[] addresses = new long[RemoteMemory.MAX_RANGES];
    private final long[] lengths = new long[RemoteMemory.MAX_RANGES];
    private int ranges;
    private long batched;
    private long pages;
    private long[] entries = new long[0];

    public PageDumper(int pid) {
        this.pid = pid;
        this.memory = new RemoteMemory(pid);
        this.pagemap = new Pagemap(pid);
    }

    /** Pages written to the journal so far. */
    public long pages() {
        return pages;
    }

    /** Writes the pages of {@code areas} that hold contents; returns how many. */
    public long dump(List<MemoryArea> areas, CheckpointWriter writer) {
        for (MemoryArea area : areas) {
            if (area.hasContents()) {
                dumpArea(area, writer);
            }
        }
        flush(writer);
        return pages;
    }

    private void dumpArea(MemoryArea area, CheckpointWriter writer) {
        int count = (int) (area.length() / PAGE);
        if (entries.length < count) {
            entries = new long[count];
        }
        pagemap.read(area.start(), entries, count);
        boolean readable = (area.prot() & 1) != 0;
        int i = 0;
        while (i < count) {
            if (!carried(area, entries[i])) {
                i++;
                continue;
            }
            int j = i + 1;
            while (j < count && carried(area, entries[j])) {
                j++;
            }
            long start = area.start() + (long) i * PAGE;
            long end = area.start() + (long) j * PAGE;
            if (readable) {
                gather(start, end, writer);
            } else {
                flush(writer);
                readForced(start, end, writer);
            }
            i = j;
        }
    }

    /**
     * Whether a page goes into the checkpoint. Private memory: every page the process has
     * touched (present or swapped); a page of a private file mapping only once written (it is
     * then anonymous); shared anonymous memory: every page, since its pages need not be mapped
     * in this process to hold data.
     */
    static boolean carried(MemoryArea area, long entry) {
        return switch (area.kind()) {
            case ANONYMOUS, HEAP, STACK -> (entry & (Pagemap.PRESENT | Pagemap.SWAPPED)) != 0;
            case FILE -> !area.shared() && ((entry & Pagemap.SWAPPED) != 0
                    || (entry & (Pagemap.PRESENT | Pagemap.FILE_OR_SHARED)) == Pagemap.PRESENT);
            case SHARED_ANONYMOUS -> true;
            case VDSO, VVAR, VVAR_VCLOCK, VSYSCALL -> false;
        };
    }

    /** Adds [start, end) to the batch, flushing whenever the batch is full. */
    private void gather(long start, long end, CheckpointWriter writer) {
        while (start < end) {
            if (batched == BATCH_BYTES || ranges == RemoteMemory.MAX_RANGES) {
                flush(writer);
            }
            long len = Math.min(end - start, BATCH_BYTES - batched);
            addresses[ranges] = start;
            lengths[ranges] = len;
            ranges++;
            batched += len;
            start += len;
        }
    }

    private void flush(CheckpointWriter writer) {
        if (ranges == 0) {
            return;
        }
        memory.readv(buffer, addresses, lengths, ranges);
        long offset = 0;
        for (int i = 0; i < ranges; i++) {
            writer.pages(addresses[i], buffer.asSlice(offset, lengths[i]));
            offset += lengths[i];
            pages += lengths[i] / PAGE;
        }
        ranges = 0;
        batched = 0;
    }

    /** Pages of an area without PROT_READ: /proc/PID/mem reads them with FOLL_FORCE. */
    private void readForced(long start, long end, CheckpointWriter writer) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ)) {
            while (start < end) {
                int len = (int) Math.min(end - start, BATCH_BYTES);
                var bb = buffer.asSlice(0, len).asByteBuffer();
                while (bb.hasRemaining()) {
                    if (mem.read(bb, start + bb.position()) <= 0) {
                        throw new IOException("short read");
                    }
                }
                writer.pages(start, buffer.asSlice(0, len));
                pages += len / PAGE;
                start += len;
            }
        } catch (IOException e) {
            throw new HotcloneException("cannot read unreadable pages of process " + pid + " at 0x"
                    + Long.toHexString(start) + " through /proc/" + pid + "/mem: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        pagemap.close();
        memory.close();
        arena.close();
    }
}
