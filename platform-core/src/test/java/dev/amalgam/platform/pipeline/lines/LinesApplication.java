package dev.amalgam.platform.pipeline.lines;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A service with the test-only {@code lines} job type. */
@SpringBootApplication
public class LinesApplication {
}
