package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusionservice.FusionJobType;
import dev.amalgam.fusionservice.RepresentationJobType;
import dev.amalgam.mergeservice.MergeJobType;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.web.JobTypeOpenApi;
import dev.amalgam.pruningservice.ComparisonJobType;
import dev.amalgam.pruningservice.EvaluationJobType;
import dev.amalgam.pruningservice.GenerateJobType;
import dev.amalgam.pruningservice.PruningJobType;
import dev.amalgam.pruningservice.ServeJobType;
import io.swagger.v3.oas.models.media.Schema;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Every job type's request body has a typed schema in the OpenAPI document, and the README's curl examples and the
 * schemas' own examples validate against it (a small validator: required fields, no unknown fields, JSON types,
 * enums and integer bounds).
 */
class ApiSchemasTest {

    static final List<JobType<?, ?, ?>> TYPES = List.of(new MergeJobType(), new PruningJobType("cpu"),
            new EvaluationJobType("cpu"), new ComparisonJobType("cpu"), new GenerateJobType("cpu"),
            new ServeJobType("cpu", "127.0.0.1", "127.0.0.1"), new FusionJobType(), new RepresentationJobType(),
            new dev.amalgam.pruningservice.JudgeJobType());

    static Stream<Arguments> readmeExamples() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = Pattern.compile("localhost:8080(/api/v1/[a-z-]+) -d '(\\{.*?\\})'", Pattern.DOTALL).matcher(readme);
        List<Arguments> examples = new ArrayList<>();
        while (m.find()) {
            String path = m.group(1);
            TYPES.stream().filter(t -> t.path().equals(path)).findFirst()
                    .ifPresent(t -> examples.add(Arguments.of(t.name(), m.group(2))));
        }
        return examples.stream();
    }

    @ParameterizedTest(name = "README example of {0}")
    @MethodSource("readmeExamples")
    void theReadmesCurlExampleValidatesAgainstItsSchema(String type, String body) {
        JobType<?, ?, ?> t = TYPES.stream().filter(x -> x.name().equals(type)).findFirst().orElseThrow();
        assertThat(problems(JobTypeOpenApi.requestSchema(t), Json.MAPPER.readTree(body), "")).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void everyJobTypeHasATypedClosedRequestSchemaWhoseExampleValidates(String name, JobType<?, ?, ?> type) throws Exception {
        Schema<?> schema = JobTypeOpenApi.requestSchema(type);
        assertThat(schema.getProperties()).containsKeys("priority", "maxAttempts").hasSizeGreaterThan(3);
        assertThat(schema.getAdditionalProperties()).isEqualTo(false);
        assertThat(schema.getExample()).as("an example").isNotNull();
        // swagger keeps the example as its own (Jackson 2) tree: compare it as JSON text
        String example = io.swagger.v3.core.util.Json.mapper().writeValueAsString(schema.getExample());
        assertThat(problems(schema, Json.MAPPER.readTree(example), "")).isEmpty();
        assertThat(problems(schema, Json.MAPPER.readTree("{\"bogus\": 1, \"priority\": 101}"), ""))
                .as("the validator itself").anyMatch(p -> p.contains("bogus")).anyMatch(p -> p.contains("priority"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void everyJobTypeHasATypedClosedResultSchemaWhoseExampleValidates(String name, JobType<?, ?, ?> type) throws Exception {
        Schema<?> schema = JobTypeOpenApi.resultSchema(type);
        assertThat(schema.getProperties()).hasSameSizeAs(type.resultClass().getRecordComponents());
        assertThat(schema.getAdditionalProperties()).isEqualTo(false);
        assertThat(schema.getExample()).as("an example").isNotNull();
        String example = io.swagger.v3.core.util.Json.mapper().writeValueAsString(schema.getExample());
        assertThat(problems(schema, Json.MAPPER.readTree(example), "")).isEmpty();
        String first = schema.getProperties().keySet().iterator().next();
        JsonNode withoutFirst = Json.MAPPER.readTree(example);
        ((tools.jackson.databind.node.ObjectNode) withoutFirst).remove(first);
        assertThat(problems(schema, withoutFirst, "")).as("the validator itself").anyMatch(p -> p.contains(first + " is required"));
    }

    @Test
    void anEvaluationsTaskListIsTypedInTheRequestAndTheResult() {
        EvaluationJobType eval = new EvaluationJobType("cpu");
        Schema<?> request = JobTypeOpenApi.requestSchema(eval);
        assertThat(problems(request, Json.MAPPER.readTree("""
                {"model": "m", "tasks": [{"name": "p", "dataset": "d", "format": "mmlu", "limit": 0, "shots": 5}]}"""), ""))
                .anyMatch(p -> p.contains("tasks[0].format") && p.contains("is not one of"))
                .anyMatch(p -> p.contains("tasks[0].limit") && p.contains("out of"));
        Schema<?> result = JobTypeOpenApi.resultSchema(eval);
        assertThat(problems(result, Json.MAPPER.readTree("""
                {"perplexity": null, "tokens": null, "chunks": null, "totalNll": null, "seqLen": null,
                 "tasks": [{"name": "p", "format": "piqa", "docs": 2, "acc": "high", "accStderr": null, "accNormStderr": null}],
                 "average": 0.5}"""), ""))
                .anyMatch(p -> p.contains("tasks[0]: accNorm is required"))
                .anyMatch(p -> p.contains("tasks[0].acc: expected number"));
    }

    @Test
    void aRepresentationsImportIsTheJsonFieldImportAndItsSourceAnEnum() {
        RepresentationJobType represent = new RepresentationJobType();
        Schema<?> request = JobTypeOpenApi.requestSchema(represent);
        assertThat(request.getProperties()).containsKeys("model", "corpus", "import", "chatTemplateFrom", "topK",
                "maxLength", "batchSize", "device", "name").doesNotContainKey("importData");
        assertThat(problems(request, Json.MAPPER.readTree("""
                {"model": "m", "import": "logprobs", "topK": 10, "name": "r"}"""), "")).isEmpty();
        assertThat(problems(request, Json.MAPPER.readTree("""
                {"model": "m", "importData": "logprobs", "topK": 0, "batchSize": 65, "name": "r"}"""), ""))
                .anyMatch(p -> p.contains("importData: not in the schema"))
                .anyMatch(p -> p.contains("topK") && p.contains("out of"))
                .anyMatch(p -> p.contains("batchSize") && p.contains("out of"));
        assertThat(problems(JobTypeOpenApi.resultSchema(represent), Json.MAPPER.readTree("""
                {"dataset": "d", "source": "vllm", "samples": 1, "positions": 2, "topK": 10, "vocabSize": 9,
                 "unsupervisedSamples": 0, "meanMetricCe": null}"""), ""))
                .containsExactly("source: \"vllm\" is not one of [engine, import]");
    }

    /** What a job of this type returned (the CLI's stdout, a job's result) matches the type's result schema. */
    static void assertMatchesResultSchema(JobType<?, ?, ?> type, JsonNode result) {
        assertThat(problems(JobTypeOpenApi.resultSchema(type), result, "")).as(type.name() + " result " + result).isEmpty();
    }

    static Stream<Arguments> types() {
        return TYPES.stream().map(t -> Arguments.of(t.name(), t));
    }

    @Test
    void theGatewayRoutesEveryJobTypesPath() throws Exception {
        String routes = Files.readString(Path.of("..", "gateway", "src", "main", "resources", "gateway.yml"));
        for (JobType<?, ?, ?> t : TYPES) {
            Matcher m = Pattern.compile("- Path=(.*)").matcher(routes);
            boolean routed = false;
            while (m.find()) {
                List<String> paths = List.of(m.group(1).trim().split(","));
                routed |= paths.contains(t.path()); // job types only take POST at their path
            }
            assertThat(routed).as(t.name() + " at " + t.path()).isTrue();
        }
    }

    @Test
    void theReadmeShowsAnExampleOfEveryJobType() throws Exception {
        assertThat(readmeExamples().map(a -> (String) a.get()[0]).distinct())
                .containsExactlyInAnyOrderElementsOf(TYPES.stream().map(JobType::name).toList());
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    static List<String> problems(Schema schema, JsonNode value, String path) {
        List<String> problems = new ArrayList<>();
        String where = path.isEmpty() ? "body" : path;
        if (value.isNull()) {
            boolean nullable = Boolean.TRUE.equals(schema.getNullable()) || schema.getTypes() != null && schema.getTypes().contains("null");
            if (!nullable) {
                problems.add(where + ": may not be null");
            }
            return problems;
        }
        String type = schema.getType() != null ? schema.getType()
                : schema.getTypes() != null && !schema.getTypes().isEmpty() ? (String) schema.getTypes().iterator().next() : null;
        if (type != null) {
            boolean ok = switch (type) {
                case "string" -> value.isString();
                case "integer" -> value.isIntegralNumber();
                case "number" -> value.isNumber();
                case "boolean" -> value.isBoolean();
                case "array" -> value.isArray();
                case "object" -> value.isObject();
                default -> true;
            };
            if (!ok) {
                problems.add(where + ": expected " + type + ", got " + value);
                return problems;
            }
        }
        if (schema.getEnum() != null && !schema.getEnum().isEmpty() && value.isString()
                && !schema.getEnum().contains(value.stringValue())) {
            problems.add(where + ": " + value + " is not one of " + schema.getEnum());
        }
        if (value.isIntegralNumber()) {
            if (schema.getMinimum() != null && value.decimalValue().compareTo((BigDecimal) schema.getMinimum()) < 0
                    || schema.getMaximum() != null && value.decimalValue().compareTo((BigDecimal) schema.getMaximum()) > 0) {
                problems.add(where + ": " + value + " is out of [" + schema.getMinimum() + ", " + schema.getMaximum() + "]");
            }
        }
        if (value.isObject() && schema.getProperties() != null) {
            Map<String, Schema> properties = schema.getProperties();
            if (schema.getRequired() != null) {
                for (Object required : schema.getRequired()) {
                    if (!value.has((String) required)) {
                        problems.add(where + ": " + required + " is required");
                    }
                }
            }
            for (Map.Entry<String, JsonNode> e : value.properties()) {
                Schema property = properties.get(e.getKey());
                String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (property == null) {
                    if (Boolean.FALSE.equals(schema.getAdditionalProperties())) {
                        problems.add(child + ": not in the schema");
                    }
                } else {
                    problems.addAll(problems(property, e.getValue(), child));
                }
            }
        }
        if (value.isArray() && schema.getItems() != null) {
            for (int i = 0; i < value.size(); i++) {
                problems.addAll(problems(schema.getItems(), value.get(i), where + "[" + i + "]"));
            }
        }
        return problems;
    }
}
