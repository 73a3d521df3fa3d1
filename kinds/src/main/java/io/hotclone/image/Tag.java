package io.hotclone.image;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a record a journal record type: its fields are its components, written by
 * {@link RecordCodec} in order under their names. The tag and the name are part of the format:
 * never reuse or renumber one. The version goes up whenever the components change; a reader
 * refuses versions it does not know, and reads older ones only as far as {@link Since} says.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Tag {
    /** The record type tag of the envelope, 1 to 255. */
    int value();

    /** The version this hotclone writes. */
    int version();

    /** The name users see in journal listings and errors: "thread", "regular-file-fd". */
    String name();
}
