package dev.amalgam.cli;

import java.util.Locale;

/** Parses human sizes the way Hugging Face's max_shard_size does: 5GB = 5e9 bytes, 5GiB = 5 * 2^30. */
final class Sizes {

    private Sizes() {
    }

    static long parseBytes(String text, String option) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        long multiplier = 1;
        String[][] units = {{"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"}, {"GB", "1000000000"}, {"MB", "1000000"},
                {"KB", "1000"}, {"B", "1"}};
        for (String[] u : units) {
            if (s.endsWith(u[0])) {
                multiplier = Long.parseLong(u[1]);
                s = s.substring(0, s.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            double value = Double.parseDouble(s);
            if (value <= 0) {
                throw new NumberFormatException();
            }
            return (long) (value * multiplier);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not a size such as 5GB, 500MB or 2GiB");
        }
    }
}
