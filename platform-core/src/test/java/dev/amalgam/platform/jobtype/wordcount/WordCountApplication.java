package dev.amalgam.platform.jobtype.wordcount;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A service with the test-only word-count job type and nothing else of its own. */
@SpringBootApplication
public class WordCountApplication {
}
