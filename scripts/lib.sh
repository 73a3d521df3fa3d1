# Sourced by ./hotclone and scripts/*: finds the JDK 25 (or newer) that hotclone builds and runs
# with, and runs Maven with it from the repository root. Needs HOTCLONE_ROOT set.

# The major version a JDK declares in its release file, or nothing.
hotclone_jdk_major() {
    local line
    line=$(grep -m1 '^JAVA_VERSION=' "$1/release" 2>/dev/null) || return 0
    line=${line#JAVA_VERSION=\"}
    echo "${line%%[.\"]*}"
}

hotclone_is_jdk25() {
    local major
    [[ -x $1/bin/java && -x $1/bin/javac ]] || return 1
    major=$(hotclone_jdk_major "$1")
    [[ $major =~ ^[0-9]+$ ]] && ((major >= 25))
}

# Prints the JDK home to use: HOTCLONE_JAVA_HOME (must be a JDK 25+), else JAVA_HOME if it is
# a JDK 25+, else the first JDK 25+ under /usr/lib/jvm. Fails with the fix when there is none.
hotclone_java_home() {
    local home
    if [[ -n ${HOTCLONE_JAVA_HOME:-} ]]; then
        if hotclone_is_jdk25 "$HOTCLONE_JAVA_HOME"; then
            echo "$HOTCLONE_JAVA_HOME"
            return 0
        fi
        echo "hotclone: HOTCLONE_JAVA_HOME=$HOTCLONE_JAVA_HOME is not a JDK 25 or newer: point it at one, or unset it." >&2
        return 1
    fi
    for home in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        if hotclone_is_jdk25 "$home"; then
            echo "$home"
            return 0
        fi
    done
    echo "hotclone: no JDK 25 or newer found (looked at HOTCLONE_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*):" \
        "install one (e.g. Temurin 25) and set HOTCLONE_JAVA_HOME to its directory." >&2
    return 1
}

# Runs Maven with the given JDK home from the repository root.
hotclone_mvn() {
    local java_home=$1
    shift
    if ! command -v mvn >/dev/null; then
        echo "hotclone: Maven (mvn) is needed to build hotclone: install it (apt-get install maven)." >&2
        return 1
    fi
    # The flag silences Maven's own libraries, which call sun.misc.Unsafe on JDK 25.
    (cd "$HOTCLONE_ROOT" &&
        JAVA_HOME=$java_home MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn "$@")
}
