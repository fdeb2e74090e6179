package dev.amalgam.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code amalgam} command. {@code up} runs the whole platform in one process; the other commands
 * run the same job code locally on files, without a server.
 */
@Command(name = "amalgam", mixinStandardHelpOptions = true, version = "amalgam 0.1.0",
        description = "Make new LLMs out of existing ones: merging, pruning and fusion.",
        subcommands = {UpCommand.class, ServeCommand.class, MergeCommand.class, PruneCommand.class, FuseCommand.class, RepresentCommand.class, TinyModelCommand.class, EvalCommand.class,
                GenerateCommand.class, JudgeCommand.class, CompareCommand.class, PipelineCommand.class, CommandLine.HelpCommand.class})
public class Amalgam implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        CommandLine commandLine = commandLine();
        if (args.length > 0 && !args[0].equals("up") && !args[0].equals("serve")) {
            // a local command runs one job: PyTorch's threads get this process's whole CPU share
            dev.amalgam.platform.worker.ComputeThreads.register(1, 0);
        }
        int code = commandLine.execute(args);
        if (code != 0 || !UpCommand.isRunningPlatform()) {
            System.exit(code);
        }
    }

    /** Library logs (DJL, ...) go to stderr at WARN, so stdout carries only a command's result. */
    private static void quietLogging() {
        if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context)) {
            return;
        }
        context.reset();
        var encoder = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%-5level %logger{24} - %msg%n");
        encoder.start();
        var appender = new ch.qos.logback.core.ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        appender.setContext(context);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        root.setLevel(ch.qos.logback.classic.Level.WARN);
        // DJL warns on every start of a CPU-only machine that it found no CUDA driver
        context.getLogger("ai.djl").setLevel(ch.qos.logback.classic.Level.ERROR);
    }

    /** The parser with the error handling every command shares: a clear message, never a stack trace for bad input. */
    public static CommandLine commandLine() {
        // local commands print results on stdout: keep library logging (DJL, ...) to warnings;
        // 'up' and 'serve' hand logging to Spring Boot, which configures it afresh
        quietLogging();
        CommandLine cl = new CommandLine(new Amalgam());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException
                    || e instanceof dev.amalgam.modelengine.UnsupportedModelException) {
                commandLine.getErr().println("amalgam: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }
}
