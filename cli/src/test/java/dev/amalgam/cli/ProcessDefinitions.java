package dev.amalgam.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * The processes of a deployed platform as {@code deploy/processes.yml} defines them: the one place that
 * says which {@code amalgam} command each process runs and with which environment. The multi-process test
 * starts exactly these; {@link DeploymentFilesTest} checks that docker-compose.yml and k8s/ run them too.
 */
final class ProcessDefinitions {

    /**
     * One process.
     *
     * @param name           its name (a compose service; {@code amalgam-<name>} is its k8s Deployment)
     * @param command        the arguments after {@code amalgam}
     * @param port           the HTTP port it listens on (health probes; the API for the gateway and API processes)
     * @param environment    every variable it runs with: the shared ones and its own
     * @param gpuEnvironment what is added where it runs on a GPU node
     * @param secrets        variables each deployment supplies from its secrets (values are not defined here)
     */
    record Process(String name, List<String> command, int port, Map<String, String> environment,
                   Map<String, String> gpuEnvironment, List<String> secrets) {

        /** The service its command serves (gateway, merge-service, ...). */
        String service() {
            return command.get(1);
        }

        boolean isWorker() {
            return "worker".equals(environment.get("AMALGAM_ROLE"));
        }
    }

    private ProcessDefinitions() {
    }

    /** The repository's root: the nearest directory above the working directory that holds deploy/processes.yml. */
    static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("deploy/processes.yml"))) {
                return d;
            }
        }
        throw new IllegalStateException("deploy/processes.yml not found above " + Path.of("").toAbsolutePath());
    }

    /** The processes of the repository's deploy/processes.yml, in its order. */
    static List<Process> load() throws IOException {
        return load(repositoryRoot().resolve("deploy/processes.yml"));
    }

    @SuppressWarnings("unchecked")
    static List<Process> load(Path file) throws IOException {
        Map<String, Object> root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml().load(r);
        }
        Map<String, String> shared = strings((Map<String, Object>) root.getOrDefault("environment", Map.of()));
        List<String> sharedSecrets = (List<String>) root.getOrDefault("secrets", List.of());
        List<Process> processes = new ArrayList<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) root.get("processes")).entrySet()) {
            Map<String, Object> p = (Map<String, Object>) e.getValue();
            Map<String, String> own = strings((Map<String, Object>) p.getOrDefault("environment", Map.of()));
            Map<String, String> environment = new LinkedHashMap<>(shared);
            for (Map.Entry<String, String> v : own.entrySet()) {
                if (environment.put(v.getKey(), v.getValue()) != null) {
                    throw new IllegalStateException(e.getKey() + " sets the shared variable " + v.getKey() + " again");
                }
            }
            List<String> secrets = new ArrayList<>(sharedSecrets);
            secrets.addAll((List<String>) p.getOrDefault("secrets", List.of()));
            processes.add(new Process(e.getKey(), List.copyOf((List<String>) p.get("command")), (Integer) p.get("port"),
                    Map.copyOf(environment), strings((Map<String, Object>) p.getOrDefault("gpu-environment", Map.of())),
                    List.copyOf(secrets)));
        }
        return processes;
    }

    /** YAML scalars as the strings an environment holds. */
    static Map<String, String> strings(Map<String, Object> map) {
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }
}
