package io.hotclone.image;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A component added in version {@link #value} of its record type: records of older versions
 * lack it and read it as {@link #absent} if it is a number, else as false, null or an empty
 * list. A record type reads every
 * version from the lowest {@code Since} minus one up to its {@link Tag#version}; without one,
 * only its version. A change older records cannot be read through (a component removed or
 * retyped) drops the {@code Since} marks of its record.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Since {
    int value();

    /** What an int or long component reads as in records older than {@link #value}. */
    long absent() default 0;
}
