package dev.amalgam.platform.worker;

import dev.amalgam.platform.job.JobRepository;
import java.sql.Connection;
import java.sql.Statement;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Holds one connection LISTENing on the job channel and wakes the worker when a job becomes
 * claimable. If the connection breaks it reconnects; meanwhile the workers' polling covers.
 */
public class JobNotificationListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(JobNotificationListener.class);

    private final DataSource dataSource;
    private final WorkerRuntime worker;
    private volatile boolean running;
    private Thread thread;

    public JobNotificationListener(DataSource dataSource, WorkerRuntime worker) {
        this.dataSource = dataSource;
        this.worker = worker;
    }

    @Override
    public synchronized void start() {
        if (running || worker.types().isEmpty()) {
            return;
        }
        running = true;
        thread = new Thread(this::listen, "amalgam-listen");
        thread.setDaemon(true);
        thread.start();
    }

    private void listen() {
        while (running) {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("LISTEN " + JobRepository.CHANNEL);
                try {
                    PGConnection pg = c.unwrap(PGConnection.class);
                    while (running) {
                        // a short wait, so that stop() finds the loop soon after running turns false
                        PGNotification[] notes = pg.getNotifications(250);
                        if (notes != null && notes.length > 0) {
                            for (PGNotification n : notes) {
                                if (worker.types().contains(n.getParameter())) {
                                    worker.wakeUp();
                                    break;
                                }
                            }
                        }
                    }
                } finally {
                    // the connection goes back to the pool: it must not keep collecting notifications
                    s.execute("UNLISTEN *");
                }
            } catch (Exception e) {
                if (running) {
                    log.debug("LISTEN connection lost ({}); reconnecting", e.toString());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * Ends the loop and waits for it to hand its connection back (UNLISTEN), so the pool is not closed under a
     * connection in use: that would log a broken connection on every clean shutdown.
     */
    @Override
    public synchronized void stop() {
        running = false;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                thread.interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
