package io.hotclone.capture.dirty;

import io.hotclone.process.proc.MapsEntry;

import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Mman.PROT_EXEC;
import static io.hotclone.bindings.linux.Mman.PROT_READ;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;

/**
 * /proc/PID/maps as the program set it up, though it shows hotclone's protections: each line
 * inside an armed range gets the range's protection back, and the pieces hotclone's mprotect
 * split an armed range into are one again.
 */
final class MapsView {
    private MapsView() {
    }

    static List<MapsEntry> of(List<MapsEntry> maps, Protections protections) {
        List<MapsEntry> out = new ArrayList<>(maps.size());
        for (MapsEntry m : maps) {
            long at = m.start();
            while (at < m.end()) {
                Protections.Armed a = protections.armedAt(at);
                Long next = protections.armedAbove(at);
                long to = Math.min(m.end(), a != null ? a.end() : next != null ? next : m.end());
                int prot = a != null ? a.prot() : m.prot();
                MapsEntry piece = new MapsEntry(at, to, (prot & PROT_READ) != 0, (prot & PROT_WRITE) != 0,
                        (prot & PROT_EXEC) != 0, m.shared(), m.inode() == 0 ? m.offset() : m.offset() + (at - m.start()),
                        m.device(), m.inode(), m.name());
                int last = out.size() - 1;
                if (a != null && last >= 0 && out.get(last).start() >= a.start() && joins(out.get(last), piece)) {
                    MapsEntry p = out.get(last);
                    out.set(last, new MapsEntry(p.start(), to, p.read(), p.write(), p.exec(), p.shared(), p.offset(),
                            p.device(), p.inode(), p.name()));
                } else {
                    out.add(piece);
                }
                at = to;
            }
        }
        return out;
    }

    /** Whether {@code q} continues {@code p} (maps shows offset 0 for every anonymous area). */
    private static boolean joins(MapsEntry p, MapsEntry q) {
        return p.end() == q.start() && p.prot() == q.prot() && p.shared() == q.shared()
                && (p.inode() == 0 ? q.offset() == p.offset() : p.offset() + p.length() == q.offset())
                && p.device().equals(q.device()) && p.inode() == q.inode() && p.name().equals(q.name());
    }
}
