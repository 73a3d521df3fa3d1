package io.hotclone.image;

import io.hotclone.bindings.linux.ipc_perm;
import io.hotclone.bindings.linux.msqid_ds;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.ENOMSG;
import static io.hotclone.bindings.linux.Ipc.IPC_CREAT;
import static io.hotclone.bindings.linux.Ipc.IPC_EXCL;
import static io.hotclone.bindings.linux.Ipc.IPC_NOWAIT;
import static io.hotclone.bindings.linux.Ipc.IPC_SET;
import static io.hotclone.bindings.linux.Ipc.IPC_STAT;
import static io.hotclone.bindings.linux.Ipc.MSG_COPY;
import static io.hotclone.bindings.linux.Ipc.MSG_NOERROR;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_msgctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_msgget;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_msgrcv;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_msgsnd;

/**
 * A System V message queue of the program's IPC namespace (see {@link SysvIpc}) with the
 * messages waiting in it, in order, read without taking them (msgrcv with MSG_COPY).
 *
 * @param maxBytes how many bytes it holds at most (msg_qbytes)
 * @param messages the messages waiting, oldest first
 */
@Tag(value = 23, version = 1, name = "sysv-msg")
public record SysvMsg(int id, int key, int uid, int gid, int mode, long maxBytes, List<Message> messages)
        implements SysvIpc {

    /** One message: its type and its bytes. */
    public record Message(long type, byte[] text) {
    }

    /** @param bytes how many bytes its messages hold together (a bound on each) */
    static SysvMsg dump(int id, int key, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = msqid_ds.allocate(arena);
            SysvCalls.call("msgctl(" + id + ", IPC_STAT)", SYS_msgctl, id, IPC_STAT, ds.address(), 0);
            long count = msqid_ds.msg_qnum(ds);
            MemorySegment buffer = arena.allocate(Long.BYTES + Math.max(1, bytes), Long.BYTES);
            List<Message> messages = new ArrayList<>();
            for (long i = 0; i < count; i++) {
                long length = SysvCalls.call("msgrcv(" + id + ", message " + i + ", MSG_COPY)", SYS_msgrcv, id,
                        buffer.address(), Math.max(1, bytes), i, IPC_NOWAIT | MSG_COPY);
                messages.add(new Message(buffer.get(ValueLayout.JAVA_LONG, 0),
                        buffer.asSlice(Long.BYTES, length).toArray(ValueLayout.JAVA_BYTE)));
            }
            MemorySegment perm = msqid_ds.msg_perm(ds);
            return new SysvMsg(id, key, ipc_perm.uid(perm), ipc_perm.gid(perm), ipc_perm.mode(perm),
                    msqid_ds.msg_qbytes(ds), List.copyOf(messages));
        }
    }

    @Override
    public String describe() {
        return "System V message queue " + id + " (key " + SysvCalls.hex(key) + ")";
    }

    @Override
    public void make() {
        SysvCalls.nextId("msg", id);
        SysvCalls.madeAs(this, SysvCalls.call("msgget(" + describe() + ")", SYS_msgget, key,
                IPC_CREAT | IPC_EXCL | (mode & 0777), 0, 0));
    }

    /** Its owner, mode and limit, then its messages in place of those it holds. */
    @Override
    public void fill() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ds = msqid_ds.allocate(arena);
            SysvCalls.call("msgctl(" + id + ", IPC_STAT)", SYS_msgctl, id, IPC_STAT, ds.address(), 0);
            SysvCalls.perms(this, msqid_ds.msg_perm(ds));
            msqid_ds.msg_qbytes(ds, maxBytes);
            SysvCalls.call("msgctl(" + id + ", IPC_SET)", SYS_msgctl, id, IPC_SET, ds.address(), 0);
            int longest = messages.stream().mapToInt(m -> m.text().length).max().orElse(0);
            MemorySegment buffer = arena.allocate(Long.BYTES + Math.max(1, longest), Long.BYTES);
            long taken; // a hot clone holds the messages of the checkpoint before: out with them
            do {
                taken = SysvCalls.callOr(ENOMSG, "msgrcv(" + id + ") to empty it", SYS_msgrcv, id, buffer.address(), 1,
                        0, IPC_NOWAIT | MSG_NOERROR);
            } while (taken >= 0);
            for (Message m : messages) {
                buffer.set(ValueLayout.JAVA_LONG, 0, m.type());
                MemorySegment.copy(MemorySegment.ofArray(m.text()), 0, buffer, Long.BYTES, m.text().length);
                SysvCalls.call("msgsnd(" + describe() + ")", SYS_msgsnd, id, buffer.address(), m.text().length,
                        IPC_NOWAIT);
            }
        }
    }
}
