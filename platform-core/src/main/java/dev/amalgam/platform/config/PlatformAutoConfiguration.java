package dev.amalgam.platform.config;

import dev.amalgam.platform.artifact.ArtifactMetadataReader;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.auth.ApiKeyBootstrap;
import dev.amalgam.platform.auth.ApiKeyFilter;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.auth.CallerArgumentResolver;
import dev.amalgam.platform.credential.CredentialService;
import dev.amalgam.platform.credential.MasterKey;
import dev.amalgam.platform.error.EmptyErrorBodyFilter;
import dev.amalgam.platform.error.ProblemErrorController;
import dev.amalgam.platform.error.ProblemHandler;
import dev.amalgam.platform.error.ProblemReportValve;
import dev.amalgam.platform.job.JobRepository;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.JobTypeHandler;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobTypeEndpoints;
import dev.amalgam.platform.worker.JobHandler;
import dev.amalgam.platform.worker.JobNotificationListener;
import dev.amalgam.platform.worker.WorkerRuntime;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import tools.jackson.databind.json.JsonMapper;

/**
 * Everything a service shares: the registry (jobs, artifacts, API keys), authentication, problem+json
 * errors, and, when the role includes "worker", the worker runtime for the service's job handlers.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.JdbcClientAutoConfiguration",
        "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
        "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"},
        // its error controller replaces Spring Boot's, which is only made when none exists yet
        beforeName = "org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration")
@EnableConfigurationProperties(AmalgamProperties.class)
public class PlatformAutoConfiguration {

    static {
        // the authenticated caller is resolved from the API key, not sent by the client: no such parameter
        org.springdoc.core.utils.SpringDocUtils.getConfig().addRequestWrapperToIgnore(dev.amalgam.platform.auth.Caller.class);
    }

    @Bean
    JobRepository jobRepository(JdbcClient jdbc, JsonMapper json) {
        return new JobRepository(jdbc, json);
    }

    @Bean
    JobService jobService(JobRepository jobs, JsonMapper json) {
        return new JobService(jobs, json);
    }

    @Bean
    ArtifactRepository artifactRepository(JdbcClient jdbc, JsonMapper json) {
        return new ArtifactRepository(jdbc, json);
    }

    @Bean
    ArtifactMetadataReader artifactMetadataReader(JsonMapper json) {
        return new ArtifactMetadataReader(json);
    }

    @Bean
    ArtifactStore artifactStore(AmalgamProperties properties, ArtifactRepository repository, ArtifactMetadataReader reader,
                                TransactionTemplate tx) {
        return new ArtifactStore(properties, repository, reader, tx);
    }

    @Bean
    ArtifactService artifactService(ArtifactRepository repository, ArtifactStore store, AmalgamProperties properties) {
        // refuse to start rather than let a tenant import the data directory (keys, other tenants' artifacts)
        ImportRoot.requireSeparate(properties.importRoot(), properties.dataDir());
        return new ArtifactService(repository, store, properties);
    }

    @Bean
    JobSubmissions jobSubmissions(JobService jobs, ArtifactRepository artifactRepository, ArtifactService artifacts,
                                  CredentialService credentials) {
        return new JobSubmissions(jobs, artifactRepository, artifacts, credentials);
    }

    /**
     * Registered credentials, sealed with the master key of {@code amalgam.credentials.master-key} (base64) or
     * {@code amalgam.credentials.master-key-file}; without either, credentials can be listed and deleted but not
     * created or opened. A bad key stops the process at start.
     */
    @Bean
    CredentialService credentialService(JdbcClient jdbc,
            @org.springframework.beans.factory.annotation.Value("${amalgam.credentials.master-key:}") String masterKey,
            @org.springframework.beans.factory.annotation.Value("${amalgam.credentials.master-key-file:}") String masterKeyFile) {
        return new CredentialService(jdbc, MasterKey.configured(masterKey, masterKeyFile));
    }

    /** Each job type's endpoint in the OpenAPI document, with its spec as the typed request body. */
    @Bean
    dev.amalgam.platform.web.JobTypeOpenApi jobTypeOpenApi(org.springframework.beans.factory.ObjectProvider<JobType<?, ?, ?>> types) {
        return new dev.amalgam.platform.web.JobTypeOpenApi(types.orderedStream().toList());
    }

    /** Each job type's POST endpoint. */
    @Bean
    JobTypeEndpoints jobTypeEndpoints(org.springframework.beans.factory.ObjectProvider<JobType<?, ?, ?>> types,
                                      JobSubmissions submissions,
                                      org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping requestMappingHandlerMapping) {
        return new JobTypeEndpoints(types.orderedStream().toList(), submissions, requestMappingHandlerMapping);
    }

    @Bean
    dev.amalgam.platform.pipeline.PipelineRepository pipelineRepository(JdbcClient jdbc, JsonMapper json) {
        return new dev.amalgam.platform.pipeline.PipelineRepository(jdbc, json);
    }

    @Bean
    dev.amalgam.platform.pipeline.PipelineSubmissions pipelineSubmissions(JobService jobs) {
        return new dev.amalgam.platform.pipeline.PipelineSubmissions(jobs);
    }

    /** The check the gateway asks of each service for the pipeline steps of its job types. */
    @Bean
    dev.amalgam.platform.pipeline.PipelineCheckEndpoint pipelineCheckEndpoint(
            org.springframework.beans.factory.ObjectProvider<JobType<?, ?, ?>> types, ArtifactService artifacts,
            org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping requestMappingHandlerMapping,
            CredentialService credentials) {
        return new dev.amalgam.platform.pipeline.PipelineCheckEndpoint(types.orderedStream().toList(), artifacts,
                requestMappingHandlerMapping, credentials);
    }

    /** Submits the pipeline steps of this service's job types as their turn comes. */
    @Bean
    @ConditionalOnExpression("'${amalgam.role:both}' != 'api'")
    dev.amalgam.platform.pipeline.PipelineScheduler pipelineScheduler(dev.amalgam.platform.pipeline.PipelineRepository pipelines,
            JobRepository jobs, ArtifactService artifacts, TransactionTemplate tx, JsonMapper json,
            org.springframework.beans.factory.ObjectProvider<JobType<?, ?, ?>> types, CredentialService credentials,
            @org.springframework.beans.factory.annotation.Value("${amalgam.pipelines.interval:1s}") Duration interval) {
        return new dev.amalgam.platform.pipeline.PipelineScheduler(pipelines, jobs, artifacts, tx, json,
                types.orderedStream().toList(), interval).withCredentials(credentials);
    }

    @Bean
    ApiKeyService apiKeyService(JdbcClient jdbc) {
        return new ApiKeyService(jdbc);
    }

    @Bean
    FilterRegistrationBean<ApiKeyFilter> apiKeyFilter(ApiKeyService keys, JsonMapper json) {
        var registration = new FilterRegistrationBean<>(new ApiKeyFilter(keys, json));
        registration.addUrlPatterns("/api/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return registration;
    }

    /**
     * Every service's OpenAPI document: served through the gateway (relative server URL) and with the
     * bearer key scheme, so Swagger UI's "Authorize" and "Try it out" work from the gateway.
     */
    @Bean
    io.swagger.v3.oas.models.OpenAPI amalgamOpenApi(@org.springframework.beans.factory.annotation.Value("${spring.application.name:amalgam}") String name) {
        String scheme = "apiKey";
        return new io.swagger.v3.oas.models.OpenAPI()
                .info(new io.swagger.v3.oas.models.info.Info().title(name).version("v1")
                        .description("Amalgam: merging, pruning (BlockPruner) and fusion (WRPO) of LLMs. Errors are RFC 9457 problem+json."))
                .servers(List.of(new io.swagger.v3.oas.models.servers.Server().url("/")))
                .components(new io.swagger.v3.oas.models.Components().addSecuritySchemes(scheme,
                        new io.swagger.v3.oas.models.security.SecurityScheme()
                                .type(io.swagger.v3.oas.models.security.SecurityScheme.Type.HTTP).scheme("bearer")))
                .addSecurityItem(new io.swagger.v3.oas.models.security.SecurityRequirement().addList(scheme));
    }

    @Bean
    ProblemHandler problemHandler() {
        return new ProblemHandler();
    }

    @Bean
    ProblemErrorController problemErrorController(JsonMapper json) {
        return new ProblemErrorController(json);
    }

    /**
     * Tomcat's own error report as problem+json. Unordered, so it runs after Spring Boot's Tomcat customizer,
     * whose context customizer adds a plain ErrorReportValve that this one replaces.
     */
    @Bean
    WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> problemReportValve(JsonMapper json) {
        return factory -> factory.addContextCustomizers(context -> {
            StandardHost host = (StandardHost) context.getParent();
            for (Valve valve : host.getPipeline().getValves()) {
                if (valve instanceof ErrorReportValve) {
                    host.getPipeline().removeValve(valve);
                }
            }
            host.getPipeline().addValve(new ProblemReportValve(json));
            // so that starting the host adds no default one
            host.setErrorReportValveClass(ProblemReportValve.class.getName());
        });
    }

    @Bean
    FilterRegistrationBean<EmptyErrorBodyFilter> emptyErrorBodyFilter(JsonMapper json) {
        var registration = new FilterRegistrationBean<>(new EmptyErrorBodyFilter(json));
        registration.addUrlPatterns("/actuator/*");
        return registration;
    }

    @Bean
    WebMvcConfigurer callerResolverConfigurer() {
        return new WebMvcConfigurer() {
            @Override
            public void addArgumentResolvers(List<HandlerMethodArgumentResolver> resolvers) {
                resolvers.add(new CallerArgumentResolver());
            }
        };
    }

    @Bean
    ApplicationRunner amalgamBootstrap(ApiKeyService keys, AmalgamProperties properties, ArtifactStore store) {
        return args -> {
            if (properties.auth().bootstrap()) {
                new ApiKeyBootstrap(keys, properties).run();
            }
            store.cleanStaging(Duration.ofDays(1));
        };
    }

    @Bean
    @ConditionalOnExpression("'${amalgam.role:both}' != 'api'")
    WorkerRuntime workerRuntime(org.springframework.beans.factory.ObjectProvider<JobType<?, ?, ?>> types,
                                org.springframework.beans.factory.ObjectProvider<JobHandler> handlers, JobRepository jobs,
                                ArtifactRepository artifacts, ArtifactStore store, JsonMapper json, AmalgamProperties properties,
                                CredentialService credentials) {
        // the service's job types, and any plain handler (tests register some)
        List<JobHandler> all = new java.util.ArrayList<>(handlers.orderedStream().toList());
        types.orderedStream().forEach(type -> all.add(new JobTypeHandler<>(type, artifacts, credentials)));
        return new WorkerRuntime(all, jobs, artifacts, store, json, properties.worker());
    }

    @Bean
    @ConditionalOnExpression("'${amalgam.role:both}' != 'api'")
    JobNotificationListener jobNotificationListener(DataSource dataSource, WorkerRuntime worker) {
        return new JobNotificationListener(dataSource, worker);
    }
}
