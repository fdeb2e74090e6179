package dev.amalgam.modelengine.judge;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The benchmarks' published judge prompts, kept as resource files beside this class, and filling them in.
 * Each resource file's first line is a comment naming its source (repository, path, commit); the rest is the
 * published text, unchanged.
 */
public final class Prompts {

    private Prompts() {
    }

    /** The text of a prompt resource without its first (source) line. */
    public static String resource(String name) {
        try (InputStream in = Prompts.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing judge prompt resource " + name);
            }
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int eol = all.indexOf('\n');
            if (!all.startsWith("# ") || eol < 0) {
                throw new IllegalStateException(name + ": the first line must name the prompt's source");
            }
            return all.substring(eol + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Fills {@code {name}} placeholders in one pass, as Python's {@code str.format(**values)} does for these
     * templates (which have no other braces): a value is never searched for placeholders itself.
     *
     * @throws IllegalStateException for a placeholder without a value (Python's KeyError)
     */
    public static String format(String template, Map<String, String> values) {
        StringBuilder out = new StringBuilder(template.length() + 256);
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c == '{') {
                int close = template.indexOf('}', i + 1);
                String name = close < 0 ? "" : template.substring(i + 1, close);
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw new IllegalStateException("not a placeholder at " + i + " of the template");
                }
                String value = values.get(name);
                if (value == null) {
                    throw new IllegalStateException("no value for {" + name + "}");
                }
                out.append(value);
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /**
     * AlpacaEval's filling: for each placeholder in order of first appearance, replace its first occurrence with the
     * value, in turn; unlike {@link #format}, a value inserted earlier is searched by the later replacements (as in
     * AlpacaEval, where an instruction containing the text {@code {output_1}} would be filled too).
     */
    public static String replaceFirstInOrder(String template, java.util.List<Map.Entry<String, String>> values) {
        String out = template;
        for (Map.Entry<String, String> e : values) {
            String placeholder = "{" + e.getKey() + "}";
            int at = out.indexOf(placeholder);
            if (at < 0) {
                throw new IllegalStateException("no " + placeholder + " in the template");
            }
            out = out.substring(0, at) + e.getValue() + out.substring(at + placeholder.length());
        }
        return out;
    }
}
