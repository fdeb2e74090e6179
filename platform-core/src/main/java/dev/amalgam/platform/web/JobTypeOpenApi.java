package dev.amalgam.platform.web;

import dev.amalgam.platform.error.ProblemType;
import dev.amalgam.platform.jobtype.JobOptions;
import dev.amalgam.platform.jobtype.JobType;
import io.swagger.v3.core.converter.AnnotatedType;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.core.converter.ResolvedSchema;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.parameters.HeaderParameter;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;

/**
 * Describes each job type's endpoint in the OpenAPI document: its request body is the type's spec record (with the
 * job options), its answers the job (202) and the problem (422). The endpoints are registered at runtime
 * ({@link JobTypeEndpoints}), so they are described here rather than found by scanning.
 */
public final class JobTypeOpenApi implements OpenApiCustomizer {

    static final String PROBLEM = "Problem";
    static final String JOB = "JobView";

    static {
        ModelConverters.getInstance().addConverter(new SpecSchemaConverter());
    }

    private final List<JobType<?, ?, ?>> types;

    public JobTypeOpenApi(List<JobType<?, ?, ?>> types) {
        this.types = List.copyOf(types);
    }

    @Override
    public void customise(OpenAPI openApi) {
        Components components = openApi.getComponents() == null ? new Components() : openApi.getComponents();
        openApi.setComponents(components);
        Schema<?> jobView = resolve(JobView.class, components);
        components.addSchemas(PROBLEM, problemSchema());
        List<Schema> results = new java.util.ArrayList<>();
        for (JobType<?, ?, ?> type : types) {
            String name = type.specClass().getSimpleName();
            components.addSchemas(name, requestSchema(type));
            String resultName = type.resultClass().getSimpleName();
            components.addSchemas(resultName, resultSchema(type));
            results.add(new Schema<>().$ref("#/components/schemas/" + resultName));
            // the job as this endpoint answers it: a JobView whose result is this type's
            String jobName = jobSchemaName(type);
            components.addSchemas(jobName, new Schema<>().description("A " + type.name() + " job")
                    .addAllOfItem(new Schema<>().$ref("#/components/schemas/" + JOB))
                    .addAllOfItem(new ObjectSchema()
                            .addProperty("type", new StringSchema()._enum(List.of(type.name())))
                            .addProperty("result", new Schema<>().$ref("#/components/schemas/" + resultName)
                                    .description("the result once SUCCEEDED, else null"))));
            MediaType json = new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + name));
            Operation op = new Operation().operationId("submit_" + type.name().replace('-', '_')).summary(type.summary())
                    .addTagsItem("jobs: " + type.name())
                    .addParametersItem(new HeaderParameter().name("Idempotency-Key").required(false)
                            .description("a retry with the same key and body returns the first job")
                            .schema(new StringSchema().minLength(1).maxLength(255)))
                    .requestBody(new RequestBody().required(true).content(new Content().addMediaType("application/json", json)))
                    .responses(new ApiResponses()
                            .addApiResponse("202", response("the queued job (or, for a retry, the first one)", jobName, "application/json"))
                            .addApiResponse("422", response("every problem of the spec", PROBLEM, "application/problem+json"))
                            .addApiResponse("401", response("a missing or unknown API key", PROBLEM, "application/problem+json")));
            openApi.path(type.path(), new PathItem().post(op));
        }
        if (jobView.getProperties() != null && !results.isEmpty()) {
            jobView.getProperties().put("result", new Schema<>().anyOf(results)
                    .description("the result once SUCCEEDED (its schema is the job type's, see each type's <Type>Result), else null"));
        }
    }

    /** The name of the schema of a job of this type, e.g. {@code MergeJob} for {@code merge}. */
    static String jobSchemaName(JobType<?, ?, ?> type) {
        StringBuilder name = new StringBuilder();
        for (String part : type.name().split("-")) {
            name.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return name.append("Job").toString();
    }

    /**
     * The schema of a job type's result: its result record's properties, every one present in a result (null
     * where the record says so), none other.
     */
    public static Schema<?> resultSchema(JobType<?, ?, ?> type) {
        Components scratch = new Components();
        Schema<?> schema = resolve(type.resultClass(), scratch);
        schema.setAdditionalProperties(false);
        inline(schema, scratch);
        return schema;
    }

    /**
     * The schema of a job type's request body: its spec record's properties (fields of {@code @JsonUnwrapped}
     * components at the top level) plus the job options; no property outside them is accepted.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    public static Schema<?> requestSchema(JobType<?, ?, ?> type) {
        Components scratch = new Components();
        Schema<?> schema = resolve(type.specClass(), scratch);
        Map<String, Schema> properties = new LinkedHashMap<>(schema.getProperties() == null ? Map.of() : schema.getProperties());
        properties.put("priority", new IntegerSchema().minimum(BigDecimal.valueOf(JobOptions.MIN_PRIORITY))
                .maximum(BigDecimal.valueOf(JobOptions.MAX_PRIORITY))._default(JobOptions.DEFAULT_PRIORITY)
                .description("higher runs first among the tenant's queued jobs of a type"));
        properties.put("maxAttempts", new IntegerSchema().minimum(BigDecimal.valueOf(JobOptions.MIN_ATTEMPTS))
                .maximum(BigDecimal.valueOf(JobOptions.MAX_ATTEMPTS))._default(JobOptions.DEFAULT_MAX_ATTEMPTS)
                .description("how often the job is started before it fails for good"));
        type.allowedValues().forEach((field, values) -> {
            Schema property = properties.get(field);
            if (property != null) {
                property.setEnum(new java.util.ArrayList<>(values));
            }
        });
        schema.setProperties(properties);
        schema.setAdditionalProperties(false);
        // nested records (e.g. a fusion's build settings) are inlined: the body schema stands on its own
        inline(schema, scratch);
        return schema;
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void inline(Schema<?> schema, Components scratch) {
        if (schema.getProperties() == null) {
            return;
        }
        Map<String, Schema> props = new LinkedHashMap<>(schema.getProperties());
        props.replaceAll((name, p) -> {
            Schema target = p;
            if (p.get$ref() != null) {
                Schema referenced = scratch.getSchemas() == null ? null
                        : scratch.getSchemas().get(p.get$ref().substring(p.get$ref().lastIndexOf('/') + 1));
                target = referenced == null ? new ObjectSchema() : referenced;
                if (p.getDescription() != null) {
                    target.setDescription(p.getDescription());
                }
            }
            inline(target, scratch);
            // a list of records (an evaluation's tasks): its items are inlined the same way
            Schema items = target.getItems();
            if (items != null && items.get$ref() != null && scratch.getSchemas() != null
                    && scratch.getSchemas().get(items.get$ref().substring(items.get$ref().lastIndexOf('/') + 1)) != null) {
                Schema item = scratch.getSchemas().get(items.get$ref().substring(items.get$ref().lastIndexOf('/') + 1));
                inline(item, scratch);
                target.setItems(item);
            }
            return target;
        });
        schema.setProperties(props);
    }

    private static Schema<?> resolve(Class<?> type, Components components) {
        ResolvedSchema resolved = ModelConverters.getInstance().resolveAsResolvedSchema(new AnnotatedType(type).resolveAsRef(false));
        if (resolved.referencedSchemas != null) {
            resolved.referencedSchemas.forEach(components::addSchemas);
        }
        components.addSchemas(type.getSimpleName(), resolved.schema);
        return resolved.schema;
    }

    private static ApiResponse response(String description, String schema, String mediaType) {
        return new ApiResponse().description(description).content(new Content().addMediaType(mediaType,
                new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + schema))));
    }

    /** RFC 9457 problem details, with the list of every problem of an invalid request. */
    private static Schema<?> problemSchema() {
        Map<String, Object> example = new LinkedHashMap<>();
        List<String> errors = List.of("numBlocks: must be an integer between 1 and 1024", "dataset: no DATASET named 'wiki'");
        example.put("type", ProblemType.VALIDATION.uri().toString());
        example.put("title", ProblemType.VALIDATION.title());
        example.put("status", 422);
        example.put("detail", errors.size() + " problems in the request: " + String.join("; ", errors));
        example.put("instance", "/api/v1/prunings");
        example.put("errors", errors);
        // a plain schema keeps the example as a tree (an ObjectSchema would turn it into a string)
        return new Schema<Object>().type("object").description("RFC 9457 problem details").example(example)
                .addProperty("type", new StringSchema().description("a stable URI naming the kind of problem"))
                .addProperty("title", new StringSchema())
                .addProperty("status", new IntegerSchema())
                .addProperty("detail", new StringSchema().description("what went wrong, for a human"))
                .addProperty("instance", new StringSchema())
                .addProperty("errors", new ArraySchema().items(new StringSchema())
                        .description("422: every problem, each as 'json.path: what is wrong'"));
    }
}
