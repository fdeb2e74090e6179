package dev.amalgam.platform.testing;

import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import java.time.Duration;
import java.util.UUID;
import org.springframework.context.ApplicationContext;

/** Waiting for jobs in tests that run an application. */
public final class TestJobs {

    private TestJobs() {
    }

    /**
     * The job once it is final (succeeded, failed or cancelled), polled through the application's JobService.
     *
     * @throws AssertionError when it is not final within {@code within}
     */
    public static Job awaitFinal(ApplicationContext app, UUID tenant, UUID id, Duration within)
            throws InterruptedException {
        JobService jobs = app.getBean(JobService.class);
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Job job = jobs.get(tenant, id);
            if (job.status().isFinal()) {
                return job;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not finish");
    }
}
