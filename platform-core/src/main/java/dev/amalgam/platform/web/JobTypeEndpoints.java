package dev.amalgam.platform.web;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.jobtype.JobType;
import java.lang.reflect.Method;
import java.util.List;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * Registers {@code POST <path>} for every {@link JobType} bean of the service, answered by {@link JobSubmissions}:
 * a job type needs no controller of its own.
 */
public final class JobTypeEndpoints implements SmartInitializingSingleton {

    private final List<JobType<?, ?, ?>> types;
    private final JobSubmissions submissions;
    private final RequestMappingHandlerMapping mappings;

    public JobTypeEndpoints(List<JobType<?, ?, ?>> types, JobSubmissions submissions, RequestMappingHandlerMapping mappings) {
        this.types = List.copyOf(types);
        this.submissions = submissions;
        this.mappings = mappings;
    }

    /** The job types served here. */
    public List<JobType<?, ?, ?>> types() {
        return types;
    }

    @Override
    public void afterSingletonsInstantiated() {
        Method submit;
        try {
            submit = Endpoint.class.getDeclaredMethod("submit", Caller.class, JsonNode.class, String.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        for (JobType<?, ?, ?> type : types) {
            RequestMappingInfo info = RequestMappingInfo.paths(type.path()).methods(RequestMethod.POST)
                    .options(mappings.getBuilderConfiguration()).build();
            mappings.registerMapping(info, new Endpoint(type, submissions), submit);
        }
    }

    /** The handler of one job type's endpoint. */
    static final class Endpoint {

        private final JobType<?, ?, ?> type;
        private final JobSubmissions submissions;

        Endpoint(JobType<?, ?, ?> type, JobSubmissions submissions) {
            this.type = type;
            this.submissions = submissions;
        }

        public ResponseEntity<JobView> submit(Caller caller, @RequestBody JsonNode body,
                                              @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
            return submissions.submit(caller, type, body, idempotencyKey);
        }
    }
}
