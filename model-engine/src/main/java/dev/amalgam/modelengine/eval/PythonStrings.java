package dev.amalgam.modelengine.eval;

import java.util.Locale;

/**
 * The few Python {@code str} operations lm-eval's prompt code uses, with Python's semantics rather than Java's:
 * Python's whitespace set (which includes U+00A0 and U+0085, unlike {@link String#strip()}), {@code len} in code
 * points (not UTF-16 units), and {@code capitalize} (first character title-cased, the rest lower-cased).
 */
public final class PythonStrings {

    private PythonStrings() {
    }

    /** Python's {@code str.isspace} for one code point. */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** Python's {@code s.strip()}. */
    public static String strip(String s) {
        return rstrip(lstrip(s));
    }

    static String lstrip(String s) {
        int i = 0;
        while (i < s.length() && isSpace(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        return s.substring(i);
    }

    /** Python's {@code s.rstrip()}. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(0, end);
    }

    /** Python's {@code len(s)}: code points. */
    static int len(String s) {
        return s.codePointCount(0, s.length());
    }

    /** Python's {@code s.capitalize()}: the first character in title case, all others in lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(n).toLowerCase(Locale.ROOT)).toString();
    }
}
