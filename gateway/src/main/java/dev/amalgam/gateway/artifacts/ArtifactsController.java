package dev.amalgam.gateway.artifacts;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactFile;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.Page;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** /api/v1/artifacts: register, upload, list, inspect, download and delete artifacts. */
@RestController
@RequestMapping("/api/v1/artifacts")
@Tag(name = "artifacts")
class ArtifactsController {

    private final ArtifactService artifacts;
    private final ArtifactRepository repository;

    ArtifactsController(ArtifactService artifacts, ArtifactRepository repository) {
        this.artifacts = artifacts;
        this.repository = repository;
    }

    /** Body of an import from the server's import root. */
    record ImportRequest(ArtifactKind kind, String name, String path) {
    }

    /** An artifact with its files and lineage. */
    record ArtifactView(UUID id, ArtifactKind kind, String name, String status, long sizeBytes, Object metadata,
                        UUID producedBy, List<UUID> consumedBy, java.time.OffsetDateTime createdAt, List<ArtifactFile> files) {
        static ArtifactView of(Artifact a, List<ArtifactFile> files, List<UUID> consumers) {
            return new ArtifactView(a.id(), a.kind(), a.name(), a.status(), a.sizeBytes(), a.metadata(), a.producingJobId(),
                    consumers, a.createdAt(), files);
        }
    }

    @PostMapping(value = "/import", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Register a model directory or dataset file found under the server's import root (copied into the store)")
    ResponseEntity<ArtifactView> importFromDisk(Caller caller, @RequestBody ImportRequest request) {
        return created(artifacts.importFromRoot(caller.tenantId(), request.kind(), request.name(), request.path()));
    }

    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @Operation(summary = "Upload one file (a JSONL dataset, a report) as an artifact")
    ResponseEntity<ArtifactView> upload(Caller caller, @RequestParam ArtifactKind kind, @RequestParam String name,
                                        @RequestPart("file") MultipartFile file) {
        try (var in = file.getInputStream()) {
            return created(artifacts.uploadFile(caller.tenantId(), kind, name, file.getOriginalFilename(), in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @PostMapping(consumes = "application/x-tar")
    @Operation(summary = "Upload a tar of a directory (a Hugging Face model) as an artifact; streamed, never buffered whole")
    ResponseEntity<ArtifactView> uploadTar(Caller caller, @RequestParam ArtifactKind kind, @RequestParam String name,
                                           HttpServletRequest request) {
        try (var in = request.getInputStream()) {
            return created(artifacts.uploadTar(caller.tenantId(), kind, name, in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @GetMapping
    @Operation(summary = "List the caller's artifacts, newest first")
    Page<ArtifactView> list(Caller caller, @RequestParam(required = false) ArtifactKind kind,
                            @RequestParam(required = false) String name,
                            @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Page.check(page, size);
        var items = artifacts.list(caller.tenantId(), kind, name, page, size).stream()
                .map(a -> ArtifactView.of(a, null, null)).toList();
        return new Page<>(items, page, size, artifacts.count(caller.tenantId(), kind, name));
    }

    @GetMapping("/{id}")
    @Operation(summary = "Get an artifact with its files (sha256, size), metadata and lineage; a deleted one keeps its"
            + " record (status DELETED, no files) for the lineage of its jobs")
    ArtifactView get(Caller caller, @PathVariable UUID id) {
        Artifact a = artifacts.record(caller.tenantId(), id);
        return ArtifactView.of(a, a.isReady() ? repository.files(id) : List.of(), repository.consumers(id));
    }

    @GetMapping("/{id}/files")
    @Operation(summary = "List an artifact's files with size and sha256")
    List<ArtifactFile> files(Caller caller, @PathVariable UUID id) {
        return artifacts.files(caller.tenantId(), id);
    }

    @GetMapping("/{id}/files/**")
    @Operation(summary = "Download one file of an artifact")
    ResponseEntity<Resource> download(Caller caller, @PathVariable UUID id, HttpServletRequest request) {
        String prefix = "/api/v1/artifacts/" + id + "/files/";
        String uri = URI.create(request.getRequestURI()).getPath();
        if (!uri.startsWith(prefix) || uri.length() == prefix.length()) {
            throw ApiException.notFound("File", "");
        }
        String relative = uri.substring(prefix.length());
        Path file = artifacts.file(caller.tenantId(), id, relative);
        try {
            return ResponseEntity.ok()
                    .contentType(MediaType.APPLICATION_OCTET_STREAM)
                    .contentLength(Files.size(file))
                    .header(HttpHeaders.CONTENT_DISPOSITION,
                            ContentDisposition.attachment().filename(file.getFileName().toString()).build().toString())
                    .body(new FileSystemResource(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DeleteMapping("/{id}")
    @Operation(summary = "Delete an artifact no queued or running job reads (its lineage record stays)")
    ResponseEntity<Void> delete(Caller caller, @PathVariable UUID id) {
        artifacts.delete(caller.tenantId(), id);
        return ResponseEntity.noContent().build();
    }

    private ResponseEntity<ArtifactView> created(Artifact a) {
        return ResponseEntity.status(HttpStatus.CREATED).location(URI.create("/api/v1/artifacts/" + a.id()))
                .body(ArtifactView.of(a, repository.files(a.id()), List.of()));
    }
}
