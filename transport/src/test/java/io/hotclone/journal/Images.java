package io.hotclone.journal;

import io.hotclone.image.AreaKind;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.InheritedFd;
import io.hotclone.process.FileIdentity;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.MmState;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RegularFileFd;
import io.hotclone.image.RlimitState;
import io.hotclone.process.RobustList;
import io.hotclone.process.RseqState;
import io.hotclone.image.SigactionState;
import io.hotclone.image.SigaltstackState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.ZombieState;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.SysvMsg;
import io.hotclone.image.SysvSem;
import io.hotclone.image.SysvShm;
import io.hotclone.image.UtsState;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;

/** Sample image records whose every field differs from its neighbours and from its default, so
 *  that a field lost, swapped or truncated on the way through the journal shows. */
final class Images {
    static final int PAGE = 4096;

    private Images() {
    }

    static ImageHeader header(long seq, long epoch, CheckpointKind kind, long baseSeq) {
        return new ImageHeader(JournalFormat.FORMAT_VERSION, seq, epoch, kind, baseSeq, "6.18.0-hotclone", "x86_64",
                PAGE, 0x2e7L, 2696, 1_760_000_000_123L + seq);
    }

    static ImageHeader full(long seq) {
        return header(seq, 1, CheckpointKind.FULL, -1);
    }

    static FileIdentity identity(long salt) {
        return new FileIdentity(0x803L + salt, 1_234_567L + salt, 98_765L + salt, 1_700_000_000_987_654_321L + salt);
    }

    static ProcessState process() {
        return new ProcessState(4242, true, "/usr/bin/prögram", identity(1),
                new MmState(0x55550000_1000L, 0x55550000_9000L, 0x55550001_0000L, 0x55550001_2000L,
                        0x55550002_0000L, 0x55550004_1000L, 0x7ffd_1234_5000L, 0x7ffd_1234_6000L,
                        0x7ffd_1234_6100L, 0x7ffd_1234_6101L, 0x7ffd_1234_6ff0L),
                bytes(7, 368), "/srv/work dir", "/", 0022, 0x0040_0000,
                List.of(new RlimitState(7, 1024, 4096), new RlimitState(3, 8L << 20, -1L)),
                List.of(new SigactionState(2, 0x5555_0000_4321L, 0x0400_0004L, 0x7f00_0000_1234L, 1L << 14),
                        new SigactionState(15, 1, 0, 0, Long.MIN_VALUE)),
                List.of(bytes(9, 128)), true, new UtsState("hc-nöde", "(none)"), 1, 0, 1, 0, 9, 42);
    }

    /** A thread with every optional piece ({@code full}) or none of them. */
    static ThreadState thread(int tid, boolean full) {
        return new ThreadState(tid, bytes(tid, 27 * 8), bytes(tid + 1, 2696), 0xfffe_fffe_0000_0001L,
                List.of(bytes(tid + 2, 128), bytes(tid + 3, 128)),
                new SigaltstackState(0x7f12_3400_0000L, 2, 65536),
                full ? new RseqState(0x7f12_3456_7020L, 32, 0, 0x53053053) : null,
                full ? 7 : 0, full ? "worker-3" : null, full ? 0x7f12_3456_79d0L : 0,
                full ? new RobustList(0x7f12_3456_79e0L, 24) : null);
    }

    static MemoryArea anonymous(long start, long pages) {
        return new MemoryArea(start, start + pages * PAGE, 3, false, AreaKind.ANONYMOUS, "", 0, null, 1);
    }

    static MemoryArea fileArea() {
        return new MemoryArea(0x7f00_0000_0000L, 0x7f00_0002_0000L, 5, false, AreaKind.FILE,
                "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28000, identity(2), 1);
    }

    static RegularFileFd regularFile() {
        return new RegularFileFd(5, 0x8402, true, "/var/log/app.log", 123_456_789_012L, identity(3));
    }

    static DeviceFd device() {
        return new DeviceFd(0, 0x8000, false, "/dev/null", 0x103L);
    }

    static InheritedFd inherited() {
        return new InheritedFd(1, 0x8001, false, 1, "/dev/pts/3");
    }

    /** A child killed by SIGTERM (15), in a group of its own. */
    static ZombieState zombie() {
        return new ZombieState(31337, 4, 4, 1, 15);
    }

    /** A segment of 5000 bytes, removed while attached; a set of three semaphores; a queue of two messages. */
    static List<SysvIpc> ipc() {
        return List.of(new SysvShm(3, 0x48430001, 0, 0, 01640, 5000, bytes(11, 5000)),
                new SysvSem(0, 0x48430002, 1000, 1000, 0600, List.of(0, 7, 32767)),
                new SysvMsg(65536, 0, 0, 100, 0620, 12345, List.of(new SysvMsg.Message(1, new byte[] {'h', 'i'}),
                        new SysvMsg.Message(3, new byte[0]))));
    }

    static Commit commit(long seq, int areas, long pageBytes, int fds) {
        return new Commit(seq, areas, pageBytes / PAGE, pageBytes, fds, 1234, 56789, 3);
    }

    static byte[] bytes(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A native segment of {@code length} pseudo-random bytes. */
    static MemorySegment contents(java.lang.foreign.Arena arena, long seed, long length) {
        MemorySegment s = arena.allocate(length, PAGE);
        Random random = new Random(seed);
        for (long i = 0; i < length; i += Long.BYTES) {
            s.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        return s;
    }
}
