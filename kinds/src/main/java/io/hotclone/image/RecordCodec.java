package io.hotclone.image;

import net.openhft.chronicle.wire.ValueIn;
import net.openhft.chronicle.wire.ValueOut;
import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A record's Chronicle Wire codec, derived once per record class from its components: each is a
 * field named after it, in order, so a record's fields are listed once, in the record. A
 * component is an int (int32), long (int64), boolean (bool), String (text), byte[] (bytes), enum
 * (text, by name), a record (marshallable, or nu11 when null), a List of records, of byte[] or of Integer
 * (sequence). Any other type fails when the codec is made, naming the component.
 *
 * @param <R> the record type
 */
public final class RecordCodec<R extends Record> {
    private static final ClassValue<RecordCodec<?>> CODECS = new ClassValue<>() {
        @Override
        protected RecordCodec<?> computeValue(Class<?> type) {
            return new RecordCodec<>(type.asSubclass(Record.class));
        }
    };

    private final Class<R> type;
    private final List<Field> fields;
    private final MethodHandle constructor;
    /** The oldest version of the record type this codec reads (see {@link Since}). */
    private final int oldestVersion;

    private RecordCodec(Class<R> type) {
        this.type = type;
        RecordComponent[] components = type.getRecordComponents();
        if (components == null) {
            throw new IllegalArgumentException(type.getName() + " is not a record");
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            List<Field> fields = new ArrayList<>();
            for (RecordComponent c : components) {
                MethodHandle accessor = lookup.unreflect(c.getAccessor()).asType(MethodType.methodType(Object.class, Record.class));
                Since since = c.getAnnotation(Since.class);
                fields.add(new Field(c.getName(), accessor, value(type, c.getName(), c.getGenericType()), since));
            }
            this.fields = List.copyOf(fields);
            Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
            this.constructor = lookup.findConstructor(type, MethodType.methodType(void.class, types))
                    .asSpreader(Object[].class, types.length)
                    .asType(MethodType.methodType(Record.class, Object[].class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot reach the components of record " + type.getName(), e);
        }
        Tag tag = type.getAnnotation(Tag.class);
        this.oldestVersion = fields.stream().filter(f -> f.since != null).mapToInt(f -> f.since.value() - 1)
                .min().orElse(tag == null ? 1 : tag.version());
    }

    /** The codec of {@code type}, made on first use. */
    @SuppressWarnings("unchecked")
    public static <R extends Record> RecordCodec<R> of(Class<R> type) {
        return (RecordCodec<R>) CODECS.get(type);
    }

    /** The oldest version of the record type this codec reads: see {@link Since}. */
    public int oldestVersion() {
        return oldestVersion;
    }

    /** Writes every component of {@code record} as a field of {@code out}. */
    public void write(Record record, WireOut out) {
        for (Field f : fields) {
            f.value.write(out.write(f.name), f.get(record));
        }
    }

    /**
     * Reads a record written by {@link #write} of record version {@code version}: components
     * added after it (see {@link Since}) read as absent, every other one must be there.
     */
    public R read(WireIn in, int version) {
        Object[] args = new Object[fields.size()];
        for (int i = 0; i < args.length; i++) {
            Field f = fields.get(i);
            if (f.since != null && version < f.since.value()) {
                args[i] = f.absent();
                continue;
            }
            ValueIn v = in.read(f.name);
            if (!v.isPresent()) {
                throw new IllegalStateException("no field " + f.name + " in a version " + version + " "
                        + type.getSimpleName() + " record");
            }
            args[i] = f.value.read(v, version);
        }
        try {
            Record record = (Record) constructor.invokeExact(args);
            return type.cast(record);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot make a " + type.getSimpleName() + " record", e);
        }
    }

    private record Field(String name, MethodHandle accessor, Value value, Since since) {
        Object absent() {
            return switch (value.absent()) {
                case Integer i -> (int) since.absent();
                case Long l -> since.absent();
                case Object o -> o;
                case null -> null;
            };
        }

        Object get(Record record) {
            try {
                return accessor.invokeExact(record);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("cannot read " + name, e);
            }
        }
    }

    /** How one value travels: written into a field or sequence item, read back from one. */
    private sealed interface Value {
        void write(ValueOut out, Object value);

        /** {@code version}: of the record type that holds the value, for its nested records. */
        Object read(ValueIn in, int version);

        /** What a record of a version before the value's component existed reads. */
        Object absent();
    }

    private record Scalar(BiConsumer<ValueOut, Object> writer, Function<ValueIn, Object> reader, Object absent)
            implements Value {
        @Override
        public void write(ValueOut out, Object value) {
            writer.accept(out, value);
        }

        @Override
        public Object read(ValueIn in, int version) {
            return reader.apply(in);
        }
    }

    /** A nested record, null allowed; its codec is looked up on use, so records may nest in any order. */
    private record Nested(Class<? extends Record> type) implements Value {
        @Override
        public void write(ValueOut out, Object value) {
            if (value == null) {
                out.nu11();
            } else {
                out.marshallable(m -> of(type).write((Record) value, m));
            }
        }

        @Override
        public Object read(ValueIn in, int version) {
            return in.isNull() ? null : in.applyToMarshallable(m -> of(type).read(m, version));
        }

        @Override
        public Object absent() {
            return null;
        }
    }

    private record Sequence(Value item) implements Value {
        @Override
        public void write(ValueOut out, Object value) {
            out.sequence((List<?>) value, (l, o) -> l.forEach(i -> item.write(o, i)));
        }

        @Override
        public Object read(ValueIn in, int version) {
            List<Object> items = new ArrayList<>();
            in.sequence(items, (l, v) -> {
                while (v.hasNextSequenceItem()) {
                    l.add(item.read(v, version));
                }
            });
            return List.copyOf(items);
        }

        @Override
        public Object absent() {
            return List.of();
        }
    }

    private static Value value(Class<?> record, String name, Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            return new Sequence(value(record, name, p.getActualTypeArguments()[0]));
        }
        if (!(type instanceof Class<?> c)) {
            throw new IllegalArgumentException(record.getName() + "." + name + ": a " + type + " cannot be saved");
        }
        if (c == int.class || c == Integer.class) {
            return new Scalar((out, v) -> out.int32((Integer) v), ValueIn::int32, 0);
        }
        if (c == long.class) {
            return new Scalar((out, v) -> out.int64((Long) v), ValueIn::int64, 0L);
        }
        if (c == boolean.class) {
            return new Scalar((out, v) -> out.bool((Boolean) v), ValueIn::bool, false);
        }
        if (c == String.class) {
            return new Scalar((out, v) -> out.text((String) v), ValueIn::text, null);
        }
        if (c == byte[].class) {
            return new Scalar((out, v) -> out.bytes((byte[]) v), ValueIn::bytes, null);
        }
        if (c.isEnum()) {
            return new Scalar((out, v) -> out.text(((Enum<?>) v).name()), in -> enumNamed(c, in.text()), null);
        }
        if (c.isRecord()) {
            return new Nested(c.asSubclass(Record.class));
        }
        throw new IllegalArgumentException(record.getName() + "." + name + ": a " + c.getName() + " cannot be saved");
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumNamed(Class<?> type, String name) {
        return Enum.valueOf((Class) type, name);
    }
}
