package dev.amalgam.modelio;

import java.nio.file.Path;
import java.util.List;

/** One weight file of a model directory: a safetensors file or a torch.save zip checkpoint. */
interface WeightFile extends AutoCloseable {

    Path path();

    List<TensorInfo> tensorInfos();

    boolean contains(String name);

    TensorInfo info(String name);

    Tensor tensor(String name);

    @Override
    void close();
}
