package io.hotclone.journal;

import io.hotclone.image.AreaKind;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.DeviceFd;
import io.hotclone.image.InheritedFd;
import io.hotclone.image.FdState;
import io.hotclone.process.FileIdentity;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.MmState;
import io.hotclone.image.ProcessState;
import io.hotclone.image.RegularFileFd;
import io.hotclone.image.RlimitState;
import io.hotclone.process.RseqState;
import io.hotclone.image.SigactionState;
import io.hotclone.image.SigaltstackState;
import io.hotclone.image.ThreadState;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.ValueIn;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;
import net.openhft.chronicle.wire.WireType;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The payload of every metadata record in Chronicle's binary wire, each field written by name,
 * one by one, and read back the same way: nothing is saved by default.
 *
 * <p>Adding a record type: a {@link RecordType} constant, a write and a read method here, and
 * one case in {@link #encode} and {@link #decode} (both switches fail to compile until then).
 */
final class ImageCodec {
    private ImageCodec() {
    }

    /** Writes the payload of {@code record} and says which record type it is. */
    static RecordType encode(Object record, WireOut w) {
        return switch (record) {
            case ImageHeader h -> { writeHeader(w, h); yield RecordType.HEADER; }
            case ProcessState p -> { writeProcess(w, p); yield RecordType.PROCESS; }
            case ThreadState t -> { writeThread(w, t); yield RecordType.THREAD; }
            case MemoryArea a -> { writeArea(w, a); yield RecordType.AREA; }
            case FdState f -> encodeFd(f, w);
            case Commit c -> { writeCommit(w, c); yield RecordType.COMMIT; }
            default -> throw new IllegalArgumentException("no journal record type for " + record.getClass().getName());
        };
    }

    private static RecordType encodeFd(FdState f, WireOut w) {
        return switch (f) {
            case RegularFileFd r -> { writeRegularFileFd(w, r); yield RecordType.REGULAR_FILE_FD; }
            case DeviceFd d -> { writeDeviceFd(w, d); yield RecordType.DEVICE_FD; }
            case InheritedFd i -> { writeInheritedFd(w, i); yield RecordType.INHERITED_FD; }
        };
    }

    /** Reads the payload of a metadata record of {@code type}, as its envelope's version wrote it. */
    static Object decode(RecordType type, Envelope.Stored r) {
        return decode(type, r.version(), r.payload().toArray(ValueLayout.JAVA_BYTE));
    }

    /** Decodes a payload of record version {@code version} held in memory. */
    static Object decode(RecordType type, int version, byte[] payload) {
        Wire in = WireType.BINARY_LIGHT.apply(Bytes.wrapForRead(payload));
        return switch (type) {
            case HEADER -> readHeader(in);
            case PROCESS -> readProcess(in);
            case THREAD -> readThread(in);
            case AREA -> readArea(in);
            case REGULAR_FILE_FD -> readRegularFileFd(in);
            case DEVICE_FD -> readDeviceFd(in);
            case INHERITED_FD -> readInheritedFd(in);
            case COMMIT -> readCommit(in, version);
            case PAGES, PAGE_RUNS -> throw new IllegalArgumentException("page records carry raw bytes, not wire fields");
        };
    }

    private static void writeHeader(WireOut w, ImageHeader h) {
        w.write("formatVersion").int32(h.formatVersion());
        w.write("seq").int64(h.seq());
        w.write("epoch").int64(h.epoch());
        w.write("kind").text(h.kind().name());
        w.write("baseSeq").int64(h.baseSeq());
        w.write("kernelRelease").text(h.kernelRelease());
        w.write("machine").text(h.machine());
        w.write("pageSize").int32(h.pageSize());
        w.write("xfeatures").int64(h.xfeatures());
        w.write("xstateSize").int32(h.xstateSize());
        w.write("capturedAtMillis").int64(h.capturedAtMillis());
    }

    private static ImageHeader readHeader(WireIn in) {
        return new ImageHeader(
                in.read("formatVersion").int32(),
                in.read("seq").int64(),
                in.read("epoch").int64(),
                CheckpointKind.valueOf(in.read("kind").text()),
                in.read("baseSeq").int64(),
                in.read("kernelRelease").text(),
                in.read("machine").text(),
                in.read("pageSize").int32(),
                in.read("xfeatures").int64(),
                in.read("xstateSize").int32(),
                in.read("capturedAtMillis").int64());
    }

    private static void writeProcess(WireOut w, ProcessState p) {
        w.write("pid").int32(p.pid());
        w.write("sessionLeader").bool(p.sessionLeader());
        w.write("exe").text(p.exe());
        nested(w, "exeIdentity", p.exeIdentity(), ImageCodec::writeFileIdentity);
        nested(w, "mm", p.mm(), ImageCodec::writeMm);
        w.write("auxv").bytes(p.auxv());
        w.write("cwd").text(p.cwd());
        w.write("root").text(p.root());
        w.write("umask").int32(p.umask());
        w.write("personality").int32(p.personality());
        list(w, "rlimits", p.rlimits(), ImageCodec::writeRlimit);
        list(w, "sigactions", p.sigactions(), ImageCodec::writeSigaction);
        byteArrays(w, "sharedPending", p.sharedPending());
    }

    private static ProcessState readProcess(WireIn in) {
        return new ProcessState(
                in.read("pid").int32(),
                in.read("sessionLeader").bool(),
                in.read("exe").text(),
                nested(in, "exeIdentity", ImageCodec::readFileIdentity),
                nested(in, "mm", ImageCodec::readMm),
                in.read("auxv").bytes(),
                in.read("cwd").text(),
                in.read("root").text(),
                in.read("umask").int32(),
                in.read("personality").int32(),
                list(in, "rlimits", ImageCodec::readRlimit),
                list(in, "sigactions", ImageCodec::readSigaction),
                byteArrays(in, "sharedPending"));
    }

    private static void writeMm(WireOut w, MmState m) {
        w.write("startCode").int64(m.startCode());
        w.write("endCode").int64(m.endCode());
        w.write("startData").int64(m.startData());
        w.write("endData").int64(m.endData());
        w.write("startBrk").int64(m.startBrk());
        w.write("brk").int64(m.brk());
        w.write("startStack").int64(m.startStack());
        w.write("argStart").int64(m.argStart());
        w.write("argEnd").int64(m.argEnd());
        w.write("envStart").int64(m.envStart());
        w.write("envEnd").int64(m.envEnd());
    }

    private static MmState readMm(WireIn in) {
        return new MmState(
                in.read("startCode").int64(),
                in.read("endCode").int64(),
                in.read("startData").int64(),
                in.read("endData").int64(),
                in.read("startBrk").int64(),
                in.read("brk").int64(),
                in.read("startStack").int64(),
                in.read("argStart").int64(),
                in.read("argEnd").int64(),
                in.read("envStart").int64(),
                in.read("envEnd").int64());
    }

    private static void writeRlimit(WireOut w, RlimitState r) {
        w.write("resource").int32(r.resource());
        w.write("soft").int64(r.soft());
        w.write("hard").int64(r.hard());
    }

    private static RlimitState readRlimit(WireIn in) {
        return new RlimitState(in.read("resource").int32(), in.read("soft").int64(), in.read("hard").int64());
    }

    private static void writeSigaction(WireOut w, SigactionState s) {
        w.write("signal").int32(s.signal());
        w.write("handler").int64(s.handler());
        w.write("flags").int64(s.flags());
        w.write("restorer").int64(s.restorer());
        w.write("mask").int64(s.mask());
    }

    private static SigactionState readSigaction(WireIn in) {
        return new SigactionState(
                in.read("signal").int32(),
                in.read("handler").int64(),
                in.read("flags").int64(),
                in.read("restorer").int64(),
                in.read("mask").int64());
    }

    private static void writeThread(WireOut w, ThreadState t) {
        w.write("tid").int32(t.tid());
        w.write("registers").bytes(t.registers());
        w.write("xstate").bytes(t.xstate());
        w.write("blockedMask").int64(t.blockedMask());
        byteArrays(w, "pending", t.pending());
        nested(w, "altstack", t.altstack(), ImageCodec::writeAltstack);
        nested(w, "rseq", t.rseq(), ImageCodec::writeRseq);
    }

    private static ThreadState readThread(WireIn in) {
        return new ThreadState(
                in.read("tid").int32(),
                in.read("registers").bytes(),
                in.read("xstate").bytes(),
                in.read("blockedMask").int64(),
                byteArrays(in, "pending"),
                nested(in, "altstack", ImageCodec::readAltstack),
                nested(in, "rseq", ImageCodec::readRseq));
    }

    private static void writeAltstack(WireOut w, SigaltstackState s) {
        w.write("sp").int64(s.sp());
        w.write("flags").int32(s.flags());
        w.write("size").int64(s.size());
    }

    private static SigaltstackState readAltstack(WireIn in) {
        return new SigaltstackState(in.read("sp").int64(), in.read("flags").int32(), in.read("size").int64());
    }

    private static void writeRseq(WireOut w, RseqState r) {
        w.write("address").int64(r.address());
        w.write("length").int32(r.length());
        w.write("flags").int32(r.flags());
        w.write("signature").int32(r.signature());
    }

    private static RseqState readRseq(WireIn in) {
        return new RseqState(
                in.read("address").int64(),
                in.read("length").int32(),
                in.read("flags").int32(),
                in.read("signature").int32());
    }

    private static void writeArea(WireOut w, MemoryArea a) {
        w.write("start").int64(a.start());
        w.write("end").int64(a.end());
        w.write("prot").int32(a.prot());
        w.write("shared").bool(a.shared());
        w.write("kind").text(a.kind().name());
        w.write("path").text(a.path());
        w.write("offset").int64(a.offset());
        nested(w, "file", a.file(), ImageCodec::writeFileIdentity);
        w.write("sinceSeq").int64(a.sinceSeq());
    }

    private static MemoryArea readArea(WireIn in) {
        return new MemoryArea(
                in.read("start").int64(),
                in.read("end").int64(),
                in.read("prot").int32(),
                in.read("shared").bool(),
                AreaKind.valueOf(in.read("kind").text()),
                in.read("path").text(),
                in.read("offset").int64(),
                nested(in, "file", ImageCodec::readFileIdentity),
                in.read("sinceSeq").int64());
    }

    private static void writeFileIdentity(WireOut w, FileIdentity f) {
        w.write("device").int64(f.device());
        w.write("inode").int64(f.inode());
        w.write("size").int64(f.size());
        w.write("mtimeNanos").int64(f.mtimeNanos());
    }

    private static FileIdentity readFileIdentity(WireIn in) {
        return new FileIdentity(
                in.read("device").int64(),
                in.read("inode").int64(),
                in.read("size").int64(),
                in.read("mtimeNanos").int64());
    }

    private static void writeRegularFileFd(WireOut w, RegularFileFd f) {
        w.write("fd").int32(f.fd());
        w.write("flags").int32(f.flags());
        w.write("closeOnExec").bool(f.closeOnExec());
        w.write("path").text(f.path());
        w.write("offset").int64(f.offset());
        nested(w, "identity", f.identity(), ImageCodec::writeFileIdentity);
    }

    private static RegularFileFd readRegularFileFd(WireIn in) {
        return new RegularFileFd(
                in.read("fd").int32(),
                in.read("flags").int32(),
                in.read("closeOnExec").bool(),
                in.read("path").text(),
                in.read("offset").int64(),
                nested(in, "identity", ImageCodec::readFileIdentity));
    }

    private static void writeDeviceFd(WireOut w, DeviceFd d) {
        w.write("fd").int32(d.fd());
        w.write("flags").int32(d.flags());
        w.write("closeOnExec").bool(d.closeOnExec());
        w.write("path").text(d.path());
        w.write("rdev").int64(d.rdev());
    }

    private static DeviceFd readDeviceFd(WireIn in) {
        return new DeviceFd(
                in.read("fd").int32(),
                in.read("flags").int32(),
                in.read("closeOnExec").bool(),
                in.read("path").text(),
                in.read("rdev").int64());
    }

    private static void writeInheritedFd(WireOut w, InheritedFd i) {
        w.write("fd").int32(i.fd());
        w.write("flags").int32(i.flags());
        w.write("closeOnExec").bool(i.closeOnExec());
        w.write("hostFd").int32(i.hostFd());
        w.write("path").text(i.path());
    }

    private static InheritedFd readInheritedFd(WireIn in) {
        return new InheritedFd(
                in.read("fd").int32(),
                in.read("flags").int32(),
                in.read("closeOnExec").bool(),
                in.read("hostFd").int32(),
                in.read("path").text());
    }

    private static void writeCommit(WireOut w, Commit c) {
        w.write("seq").int64(c.seq());
        w.write("areas").int32(c.areas());
        w.write("pages").int64(c.pages());
        w.write("pageBytes").int64(c.pageBytes());
        w.write("fds").int32(c.fds());
        w.write("freezeMicros").int64(c.freezeMicros());
        w.write("durationMicros").int64(c.durationMicros());
        w.write("failedBefore").int32(c.failedBefore());
    }

    /** Version 1 did not count the failures before a commit. */
    private static Commit readCommit(WireIn in, int version) {
        return new Commit(
                in.read("seq").int64(),
                in.read("areas").int32(),
                in.read("pages").int64(),
                in.read("pageBytes").int64(),
                in.read("fds").int32(),
                in.read("freezeMicros").int64(),
                in.read("durationMicros").int64(),
                version >= 2 ? in.read("failedBefore").int32() : Commit.FAILED_BEFORE_UNKNOWN);
    }

    private static <T> void nested(WireOut w, String name, T value, BiConsumer<WireOut, T> writer) {
        if (value == null) {
            w.write(name).nu11();
        } else {
            w.write(name).marshallable(m -> writer.accept(m, value));
        }
    }

    private static <T> T nested(WireIn in, String name, Function<WireIn, T> reader) {
        ValueIn v = in.read(name);
        return v.isNull() ? null : v.applyToMarshallable(reader);
    }

    private static <T> void list(WireOut w, String name, List<T> items, BiConsumer<WireOut, T> writer) {
        w.write(name).sequence(items, (l, out) -> l.forEach(item -> out.marshallable(m -> writer.accept(m, item))));
    }

    private static <T> List<T> list(WireIn in, String name, Function<WireIn, T> reader) {
        List<T> items = new ArrayList<>();
        in.read(name).sequence(items, (l, v) -> {
            while (v.hasNextSequenceItem()) {
                l.add(v.applyToMarshallable(reader));
            }
        });
        return List.copyOf(items);
    }

    private static void byteArrays(WireOut w, String name, List<byte[]> items) {
        w.write(name).sequence(items, (l, out) -> l.forEach(out::bytes));
    }

    private static List<byte[]> byteArrays(WireIn in, String name) {
        List<byte[]> items = new ArrayList<>();
        in.read(name).sequence(items, (l, v) -> {
            while (v.hasNextSequenceItem()) {
                l.add(v.bytes());
            }
        });
        return List.copyOf(items);
    }
}
