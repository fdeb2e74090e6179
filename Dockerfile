# One image for every process: `amalgam serve <service>` picks which (deploy/processes.yml defines the
# processes; docker-compose.yml and k8s/ run them).
# CPU PyTorch natives come from Maven Central inside the jar. For GPU workers, build FROM an image
# with libtorch 2.7.1 for CUDA and set PYTORCH_LIBRARY_PATH to its lib directory (DJL then uses it).
# Java 25: the merges run faster on it than on 17 (bench/README.md, "merge"); the jar itself targets Java 17.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -q -B -DskipTests -pl cli -am package

FROM eclipse-temurin:25-jre
RUN useradd --system --uid 1000 amalgam && mkdir -p /data && chown amalgam /data
COPY --from=build /src/cli/target/amalgam.jar /opt/amalgam/amalgam.jar
USER amalgam
ENV AMALGAM_DATA_DIR=/data
# OpenMP threads sleep when idle instead of spinning, which steals CPU from the other threads of a busy
# node (read by the native library when it loads, so it is set here rather than by the application)
ENV OMP_WAIT_POLICY=PASSIVE
# --enable-native-access: Java 24+ warns when code loads native libraries (DJL loads PyTorch's) without it
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "--enable-native-access=ALL-UNNAMED", "-jar", "/opt/amalgam/amalgam.jar"]
CMD ["serve", "gateway"]
