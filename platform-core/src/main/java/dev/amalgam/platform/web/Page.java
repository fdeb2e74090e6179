package dev.amalgam.platform.web;

import dev.amalgam.platform.error.ApiException;
import java.util.ArrayList;
import java.util.List;

/** One page of a list, with the total so clients can page. */
public record Page<T>(List<T> items, int page, int size, long total) {

    public static final int MAX_SIZE = 200;

    /** Checks paging parameters, answering 422 with both problems at once. */
    public static void check(int page, int size) {
        List<String> errors = new ArrayList<>();
        if (page < 0) {
            errors.add("page: must be >= 0");
        }
        if (size < 1 || size > MAX_SIZE) {
            errors.add("size: must be between 1 and " + MAX_SIZE);
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
    }
}
