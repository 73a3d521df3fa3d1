package io.hotclone.journal;

import io.hotclone.image.Commit;
import io.hotclone.image.MmState;
import io.hotclone.image.ThreadState;

import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Renders image records for people: {@code name=value} for every component, addresses and masks
 * in hex, prot as {@code rwx}, registers by name, siginfo by signal and code, other byte arrays by
 * size. It reads components, as the codec writes them, so a new record type shows without a
 * change here.
 */
public final class RecordText {
    /** struct user_regs_struct on x86_64, in order (sys/user.h). */
    private static final List<String> REGISTERS_AMD64 = List.of("r15", "r14", "r13", "r12", "rbp", "rbx", "r11",
            "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
            "fs_base", "gs_base", "ds", "es", "fs", "gs");
    private static final Set<String> HEX = Set.of("start", "end", "handler", "restorer", "mask", "blockedMask",
            "sp", "address", "xfeatures", "flags", "personality", "signature", "rdev", "device", "clearChildTid", "head",
            "key");
    private static final int SIGINFO_SIZE = 128;

    private RecordText() {
    }

    /** Every component of {@code record}, space-separated; registers follow on indented lines.
     *  Takes an Object so that sealed interfaces of records (FdState) need no cast. */
    public static String describe(Object item) {
        if (!(item instanceof Record record)) {
            return String.valueOf(item);
        }
        StringJoiner line = new StringJoiner(" ");
        String registers = "";
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            Object value = valueOf(c, record);
            if (record instanceof ThreadState && c.getName().equals("registers")) {
                registers = registers((byte[]) value);
            } else {
                line.add(c.getName() + "=" + format(c.getName(), value, record instanceof MmState));
            }
        }
        return line + registers;
    }

    private static String format(String name, Object value, boolean address) {
        return switch (value) {
            case null -> "null";
            case Long l when address || HEX.contains(name) -> "0x" + Long.toHexString(l);
            case Integer i when name.equals("prot") -> prot(i);
            case Integer i when name.equals("umask") || name.equals("mode") -> "0" + Integer.toOctalString(i);
            case Integer i when name.equals("failedBefore") && i == Commit.FAILED_BEFORE_UNKNOWN -> "unknown";
            case Integer i when HEX.contains(name) -> "0x" + Integer.toHexString(i);
            case String s -> '"' + s + '"';
            case byte[] b when name.equals("auxv") -> auxv(b);
            case byte[] b -> b.length + " bytes";
            case List<?> list -> list(name, list);
            case Record r -> "(" + describe(r) + ")";
            default -> String.valueOf(value);
        };
    }

    private static String list(String name, List<?> items) {
        StringJoiner out = new StringJoiner(", ", "[", "]");
        for (Object item : items) {
            out.add(item instanceof byte[] b && b.length == SIGINFO_SIZE ? siginfo(b) : format(name, item, false));
        }
        return out.toString();
    }

    /** si_signo, si_errno, si_code: the three ints every siginfo_t starts with. */
    private static String siginfo(byte[] b) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        return "siginfo(signo=" + in.getInt(0) + " errno=" + in.getInt(4) + " code=" + in.getInt(8) + ")";
    }

    /** The auxiliary vector as type=value pairs, up to AT_NULL. */
    private static String auxv(byte[] b) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        StringJoiner out = new StringJoiner(" ", "{", "}");
        for (int i = 0; i + 16 <= b.length && in.getLong(i) != 0; i += 16) {
            out.add(in.getLong(i) + ":0x" + Long.toHexString(in.getLong(i + 8)));
        }
        return out.toString();
    }

    private static String registers(byte[] b) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (b.length != REGISTERS_AMD64.size() * Long.BYTES) {
            return " registers=" + b.length + " bytes";
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < REGISTERS_AMD64.size(); i++) {
            out.append(i % 4 == 0 ? "\n    " : "  ")
                    .append(String.format("%-8s 0x%016x", REGISTERS_AMD64.get(i), in.getLong(i * Long.BYTES)));
        }
        return out.toString();
    }

    private static String prot(int prot) {
        return ((prot & 1) != 0 ? "r" : "-") + ((prot & 2) != 0 ? "w" : "-") + ((prot & 4) != 0 ? "x" : "-");
    }

    private static Object valueOf(RecordComponent c, Record record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + c.getName() + " of " + record.getClass().getName(), e);
        }
    }
}
