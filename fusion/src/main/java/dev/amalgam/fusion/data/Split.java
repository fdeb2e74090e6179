package dev.amalgam.fusion.data;

import java.util.Locale;

/** Which stage a record feeds: the target-SFT stage (prompt + best source response) or preference training. */
public enum Split {
    SFT,
    PREFERENCE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Split fromId(String id) {
        for (Split s : values()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown split '" + id + "' (known: sft, preference)");
    }
}
