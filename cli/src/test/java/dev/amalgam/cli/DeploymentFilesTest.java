package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml and k8s/ run exactly the processes of deploy/processes.yml (which
 * {@link MultiProcessPlatformTest} starts): the same commands, the same environment (the definition's
 * values, plus the secrets it names), the same ports, and one data volume shared by every process.
 */
class DeploymentFilesTest {

    static final Pattern ADDRESS = Pattern.compile("//([a-z0-9-]+):(\\d+)");

    final Path root = ProcessDefinitions.repositoryRoot();

    @Test
    void theDefinitionIsConsistent() throws Exception {
        List<ProcessDefinitions.Process> processes = ProcessDefinitions.load();
        assertThat(processes).extracting(ProcessDefinitions.Process::name).containsExactly(
                "gateway", "merge-api", "merge-worker", "pruning-api", "pruning-worker", "fusion-api", "fusion-worker");
        Map<String, Integer> listening = new LinkedHashMap<>();
        listening.put("postgres", 5432);
        processes.stream().filter(p -> !p.isWorker()).forEach(p -> listening.put(p.name(), p.port()));
        for (ProcessDefinitions.Process p : processes) {
            assertThat(p.command()).as(p.name()).hasSize(2).startsWith("serve");
            assertThat(p.environment()).as(p.name() + ": the shared data directory").containsEntry("AMALGAM_DATA_DIR", "/data");
            assertThat(p.secrets()).as(p.name()).contains("SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD");
            if (!p.name().equals("gateway")) {
                assertThat(p.environment().get("AMALGAM_ROLE")).as(p.name() + ": role").isEqualTo(p.name().endsWith("-api") ? "api" : "worker");
            }
            // every address a process is given is one another process (or PostgreSQL) listens on
            for (Map.Entry<String, String> e : p.environment().entrySet()) {
                Matcher m = ADDRESS.matcher(e.getValue());
                while (m.find()) {
                    assertThat(listening).as(p.name() + " " + e.getKey()).containsEntry(m.group(1), Integer.parseInt(m.group(2)));
                }
            }
        }
        // the gateway routes each service to that service's API process
        ProcessDefinitions.Process gateway = processes.get(0);
        for (String service : List.of("merge", "pruning", "fusion")) {
            String url = gateway.environment().get("AMALGAM_SERVICES_" + service.toUpperCase() + "_URL");
            ProcessDefinitions.Process api = processes.stream().filter(p -> p.name().equals(service + "-api")).findFirst().orElseThrow();
            assertThat(url).isEqualTo("http://" + api.name() + ":" + api.port());
            assertThat(api.service()).isEqualTo(service + "-service");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void dockerComposeRunsExactlyTheDefinedProcesses() throws Exception {
        Map<String, Object> compose;
        try (Reader r = Files.newBufferedReader(root.resolve("docker-compose.yml"))) {
            compose = new Yaml().load(r);
        }
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        List<ProcessDefinitions.Process> processes = ProcessDefinitions.load();
        Set<String> expectedServices = new LinkedHashSet<>(List.of("postgres"));
        processes.forEach(p -> expectedServices.add(p.name()));
        assertThat(services.keySet()).as("compose services").containsExactlyInAnyOrderElementsOf(expectedServices);
        for (ProcessDefinitions.Process p : processes) {
            Map<String, Object> s = (Map<String, Object>) services.get(p.name());
            assertThat(s.get("command")).as(p.name() + " command").isEqualTo(p.command());
            assertEnvironment("compose " + p.name(), ProcessDefinitions.strings((Map<String, Object>) s.get("environment")),
                    p.environment(), p.secrets());
            assertThat((List<String>) s.get("volumes")).as(p.name() + ": the shared data volume").contains("artifacts:/data");
            for (String published : (List<String>) s.getOrDefault("ports", List.of())) {
                assertThat(published).as(p.name() + " port").endsWith(":" + p.port());
            }
        }
        Map<String, Object> gateway = (Map<String, Object>) services.get("gateway");
        assertThat((List<String>) gateway.get("ports")).as("the gateway is published").hasSize(1);
        assertThat((List<String>) gateway.get("volumes")).anyMatch(v -> v.contains(":/import"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void kubernetesRunsExactlyTheDefinedProcesses() throws Exception {
        Map<String, Map<String, Object>> byKindAndName = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(root.resolve("k8s"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (Reader r = Files.newBufferedReader(f)) {
                    for (Object doc : new Yaml().loadAll(r)) {
                        Map<String, Object> d = (Map<String, Object>) doc;
                        String name = (String) ((Map<String, Object>) d.get("metadata")).get("name");
                        assertThat(byKindAndName.put(d.get("kind") + "/" + name, d)).as("one " + d.get("kind") + " " + name).isNull();
                    }
                }
            }
        }
        List<ProcessDefinitions.Process> processes = ProcessDefinitions.load();
        List<String> deployments = byKindAndName.keySet().stream().filter(k -> k.startsWith("Deployment/")).toList();
        assertThat(deployments).containsExactlyInAnyOrderElementsOf(processes.stream().map(p -> "Deployment/amalgam-" + p.name()).toList());
        for (ProcessDefinitions.Process p : processes) {
            Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) byKindAndName.get("Deployment/amalgam-" + p.name())
                    .get("spec")).get("template");
            Map<String, Object> podSpec = (Map<String, Object>) pod.get("spec");
            List<Map<String, Object>> containers = (List<Map<String, Object>>) podSpec.get("containers");
            assertThat(containers).as(p.name()).hasSize(1);
            Map<String, Object> c = containers.get(0);
            assertThat(c.get("args")).as(p.name() + " args").isEqualTo(p.command());

            Map<String, String> env = new LinkedHashMap<>();
            for (Map<String, Object> ref : (List<Map<String, Object>>) c.getOrDefault("envFrom", List.of())) {
                Map<String, Object> from = ref.containsKey("configMapRef")
                        ? byKindAndName.get("ConfigMap/" + ((Map<String, Object>) ref.get("configMapRef")).get("name"))
                        : byKindAndName.get("Secret/" + ((Map<String, Object>) ref.get("secretRef")).get("name"));
                assertThat(from).as(p.name() + " " + ref).isNotNull();
                Map<String, Object> values = (Map<String, Object>) from.getOrDefault("data", from.get("stringData"));
                values.forEach((k, v) -> assertThat(env.put(k, String.valueOf(v))).as(p.name() + " sets " + k + " once").isNull());
            }
            for (Map<String, Object> e : (List<Map<String, Object>>) c.getOrDefault("env", List.of())) {
                assertThat(env.put((String) e.get("name"), String.valueOf(e.get("value")))).as(p.name() + " sets " + e.get("name") + " once").isNull();
            }
            Map<String, String> expected = new LinkedHashMap<>(p.environment());
            // the manifests run workers on GPU nodes
            expected.putAll(p.gpuEnvironment());
            assertEnvironment("k8s " + p.name(), env, expected, p.secrets());

            assertThat((List<Map<String, Object>>) c.get("ports")).as(p.name() + " port").containsExactly(Map.of("containerPort", p.port()));
            for (String probe : List.of("readinessProbe", "livenessProbe")) {
                if (c.containsKey(probe)) {
                    assertThat(((Map<String, Object>) ((Map<String, Object>) c.get(probe)).get("httpGet")).get("port"))
                            .as(p.name() + " " + probe).isEqualTo(p.port());
                }
            }
            assertThat((List<Map<String, Object>>) c.get("volumeMounts")).as(p.name() + ": the shared data volume")
                    .contains(Map.of("name", "artifacts", "mountPath", "/data"));
            assertThat((List<Map<String, Object>>) podSpec.get("volumes"))
                    .contains(Map.of("name", "artifacts", "persistentVolumeClaim", Map.of("claimName", "amalgam-artifacts")));
            if (!p.isWorker()) {
                // reachable at the host and port the definition gives the other processes
                Map<String, Object> service = byKindAndName.get("Service/" + p.name());
                assertThat(service).as("Service " + p.name()).isNotNull();
                Map<String, Object> spec = (Map<String, Object>) service.get("spec");
                assertThat(spec.get("selector")).isEqualTo(((Map<String, Object>) pod.get("metadata")).get("labels"));
                assertThat((List<Map<String, Object>>) spec.get("ports")).containsExactly(Map.of("port", p.port(), "targetPort", p.port()));
            }
        }
        Map<String, Object> artifacts = (Map<String, Object>) byKindAndName.get("PersistentVolumeClaim/amalgam-artifacts").get("spec");
        assertThat((List<String>) artifacts.get("accessModes")).as("every pod mounts the store").containsExactly("ReadWriteMany");
        // KEDA scales the worker Deployments
        for (ProcessDefinitions.Process p : processes.stream().filter(ProcessDefinitions.Process::isWorker).toList()) {
            Map<String, Object> scaled = byKindAndName.get("ScaledObject/amalgam-" + p.name());
            assertThat(scaled).as("ScaledObject of " + p.name()).isNotNull();
            assertThat(((Map<String, Object>) ((Map<String, Object>) scaled.get("spec")).get("scaleTargetRef")).get("name"))
                    .isEqualTo("amalgam-" + p.name());
        }
    }

    /** The deployment's environment is the definition's: the same values, and each named secret supplied. */
    static void assertEnvironment(String what, Map<String, String> actual, Map<String, String> defined, List<String> secrets) {
        List<String> expectedNames = new ArrayList<>(defined.keySet());
        expectedNames.addAll(secrets);
        assertThat(actual.keySet()).as(what + ": variables").containsExactlyInAnyOrderElementsOf(expectedNames);
        defined.forEach((k, v) -> assertThat(actual.get(k)).as(what + " " + k).isEqualTo(v));
    }
}
