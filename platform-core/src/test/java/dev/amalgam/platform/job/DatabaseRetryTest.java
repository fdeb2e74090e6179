package dev.amalgam.platform.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;

/** Which database errors are retried, and for how long. */
class DatabaseRetryTest {

    @Test
    void aConnectionFailureIsRetriedUntilTheDatabaseAnswers() {
        AtomicInteger calls = new AtomicInteger();
        String result = DatabaseRetry.call("test", Duration.ofSeconds(10), () -> {
            if (calls.incrementAndGet() < 3) {
                throw new CannotGetJdbcConnectionException("Connection refused");
            }
            return "written";
        });
        assertThat(result).isEqualTo("written");
        assertThat(calls).hasValue(3);
    }

    @Test
    void theServerShuttingDownIsTransientByItsSqlState() {
        var adminShutdown = new UncategorizedSQLException("insert", "insert into job_events ...",
                new SQLException("terminating connection due to administrator command", "57P01"));
        var connectionLost = new UncategorizedSQLException("insert", "insert", new SQLException("I/O error", "08006"));
        assertThat(DatabaseRetry.isTransient(adminShutdown)).isTrue();
        assertThat(DatabaseRetry.isTransient(connectionLost)).isTrue();
        assertThat(DatabaseRetry.isTransient(new UncategorizedSQLException("x", "x", new SQLException("syntax", "42601")))).isFalse();
    }

    @Test
    void aStatementErrorFailsAtOnce() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> DatabaseRetry.call("test", Duration.ofSeconds(10), () -> {
            calls.incrementAndGet();
            throw new DuplicateKeyException("artifacts_name_key");
        })).isInstanceOf(DataIntegrityViolationException.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void anOutageLongerThanTheBudgetIsRethrown() {
        AtomicInteger calls = new AtomicInteger();
        long start = System.nanoTime();
        assertThatThrownBy(() -> DatabaseRetry.call("test", Duration.ofMillis(500), () -> {
            calls.incrementAndGet();
            throw new CannotGetJdbcConnectionException("Connection refused");
        })).isInstanceOf(CannotGetJdbcConnectionException.class);
        assertThat(calls.get()).isGreaterThan(1);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
}
