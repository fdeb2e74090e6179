package dev.amalgam.platform.job;

import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * Retries registry writes of a running job through brief database outages (a PostgreSQL restart, a
 * failover, a full connection pool), so a blip costs a pause instead of the job. Only errors that say the
 * database was unreachable are retried; a constraint violation or bad SQL fails at once.
 */
public final class DatabaseRetry {

    private static final Logger log = LoggerFactory.getLogger(DatabaseRetry.class);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(100);
    private static final Duration LONGEST_PAUSE = Duration.ofSeconds(2);

    private DatabaseRetry() {
    }

    /** Runs {@code op}, retrying transient failures with growing pauses until {@code budget} is spent. */
    public static <T> T call(String what, Duration budget, Supplier<T> op) {
        long deadline = System.nanoTime() + budget.toNanos();
        Duration pause = FIRST_PAUSE;
        for (int attempt = 1; ; attempt++) {
            try {
                return op.get();
            } catch (RuntimeException e) {
                if (!isTransient(e) || System.nanoTime() + pause.toNanos() > deadline) {
                    throw e;
                }
                if (attempt == 1) {
                    log.warn("{}: the database is unreachable ({}); retrying for up to {} s", what, e.getClass().getSimpleName(),
                            budget.toSeconds());
                }
                try {
                    Thread.sleep(pause.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.multipliedBy(2);
            }
        }
    }

    /** Like {@link #call} for an operation without a result. */
    public static void run(String what, Duration budget, Runnable op) {
        call(what, budget, () -> {
            op.run();
            return null;
        });
    }

    /**
     * Whether an error means the database could not be reached or the connection broke, rather than that the
     * statement itself was wrong: Spring's transient and resource-failure exceptions, and SQL states of class
     * 08 (connection exception), 57P01-57P03 (the server shutting down or starting) and 53300 (too many connections).
     */
    public static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TransientDataAccessException || t instanceof DataAccessResourceFailureException
                    || t instanceof RecoverableDataAccessException || t instanceof CannotCreateTransactionException
                    || t instanceof java.sql.SQLTransientException || t instanceof java.sql.SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
                        || state.equals("53300")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
