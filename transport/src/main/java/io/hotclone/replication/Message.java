package io.hotclone.replication;

import io.hotclone.journal.CheckpointMark;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** The messages of the replication link; each travels as one Chronicle Wire binary document (see {@link Link}). */
sealed interface Message {
    /** Primary to standby, first: who is shipping. */
    record Hello(String service, long epoch, String primary) implements Message {
    }

    /** Standby to primary, in answer to hello: what its journal holds, to resume from. */
    record Position(Optional<CheckpointMark> committed, Optional<CheckpointMark> tornHeader) implements Message {
    }

    /** Primary to standby: one journal record, envelope and payload. Read, a view of the link's buffer, valid until its next read. */
    record Data(MemorySegment record) implements Message {
    }

    /** Standby to primary: the commit of {@code seq} is appended. */
    record Ack(long seq) implements Message {
    }

    /** Either way: nothing else to say, still alive. */
    record Heartbeat() implements Message {
    }

    /** Primary to standby: the histories differ; drop the journal, a fresh copy follows. */
    record Reset() implements Message {
    }

    /** Either way, last: why the connection is refused. */
    record Refused(String why) implements Message {
    }

    static void write(Message m, WireOut w) {
        switch (m) {
            case Hello h -> {
                w.write("msg").text("hello");
                w.write("service").text(h.service());
                w.write("epoch").int64(h.epoch());
                w.write("primary").text(h.primary());
            }
            case Position p -> {
                w.write("msg").text("position");
                writeMark(w, "committed", p.committed());
                writeMark(w, "torn", p.tornHeader());
            }
            case Data d -> {
                w.write("msg").text("data");
                w.write("record").bytes(BytesStore.wrap(d.record().asByteBuffer()));
            }
            case Ack a -> {
                w.write("msg").text("ack");
                w.write("seq").int64(a.seq());
            }
            case Heartbeat h -> w.write("msg").text("heartbeat");
            case Reset r -> w.write("msg").text("reset");
            case Refused r -> {
                w.write("msg").text("refused");
                w.write("why").text(r.why());
            }
        }
    }

    /** Reads one message; a data record is read into {@code scratch}, whose view it is then. */
    static Message read(WireIn w, Bytes<byte[]> scratch) throws IOException {
        String msg = w.read("msg").text();
        return switch (msg == null ? "" : msg) {
            case "hello" -> new Hello(w.read("service").text(), w.read("epoch").int64(), w.read("primary").text());
            case "position" -> new Position(readMark(w, "committed"), readMark(w, "torn"));
            case "data" -> {
                scratch.clear();
                w.read("record").bytes(scratch);
                yield new Data(MemorySegment.ofArray(scratch.underlyingObject()).asSlice(0, scratch.readRemaining()));
            }
            case "ack" -> new Ack(w.read("seq").int64());
            case "heartbeat" -> new Heartbeat();
            case "reset" -> new Reset();
            case "refused" -> new Refused(w.read("why").text());
            default -> throw new IOException("unknown replication message \"" + msg
                    + "\": is the peer a hotclone of another version?");
        };
    }

    /** Seq 0 stands for none: checkpoint seqs start at 1. */
    private static void writeMark(WireOut w, String name, Optional<CheckpointMark> mark) {
        w.write(name + "Seq").int64(mark.map(CheckpointMark::seq).orElse(0L));
        w.write(name + "Epoch").int64(mark.map(CheckpointMark::epoch).orElse(0L));
        w.write(name + "Crc").int32(mark.map(CheckpointMark::crc).orElse(0));
    }

    private static Optional<CheckpointMark> readMark(WireIn w, String name) {
        long seq = w.read(name + "Seq").int64();
        long epoch = w.read(name + "Epoch").int64();
        int crc = w.read(name + "Crc").int32();
        return seq == 0 ? Optional.empty() : Optional.of(new CheckpointMark(seq, epoch, crc));
    }
}
