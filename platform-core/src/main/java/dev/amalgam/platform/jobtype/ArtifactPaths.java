package dev.amalgam.platform.jobtype;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paths on the server of the artifacts a job resolved, and the names the caller knows them by. A reader that
 * finds a bad line names the file it read by its path; on the platform that path says nothing to the caller and is
 * not the caller's to see, so problems and job errors have each path written as the artifact's quoted name.
 */
final class ArtifactPaths {

    private final Map<String, String> names = new LinkedHashMap<>();

    /** Records an artifact's location (its file or its directory) and its directory. */
    void add(Path location, Path dir, String name) {
        for (Path p : List.of(location, dir)) { // as given and absolute: a reader may print either
            names.putIfAbsent(p.toAbsolutePath().toString(), name);
            names.putIfAbsent(p.toString(), name);
        }
    }

    /** {@code text} with every recorded path replaced by {@code 'name'}, longer paths first (a file before its directory). */
    String named(String text) {
        if (text == null) {
            return null;
        }
        List<Map.Entry<String, String>> longestFirst = new ArrayList<>(names.entrySet());
        longestFirst.sort((x, y) -> Integer.compare(y.getKey().length(), x.getKey().length()));
        String res = text;
        for (Map.Entry<String, String> e : longestFirst) {
            res = res.replace(e.getKey(), "'" + e.getValue() + "'");
        }
        return res;
    }

    List<String> named(List<String> problems) {
        return problems.stream().map(this::named).toList();
    }
}
