package dev.amalgam.merge.arch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ArchitectureTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode config(String json) {
        return JSON.readTree(json);
    }

    @Test
    void everyFamilyFileIsListedInTheIndexAndLoads() throws IOException {
        Path dir = Path.of("src/main/resources/dev/amalgam/merge/arch/families");
        List<String> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted().toList();
        }
        assertThat(Architecture.indexEntries()).containsExactlyInAnyOrderElementsOf(files);
        assertThat(Architecture.known()).hasSize(files.size());
        assertThat(Architecture.supported()).contains("LlamaForCausalLM", "MixtralForCausalLM", "Qwen2MoeForCausalLM",
                "Qwen3MoeForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM", "GPT2LMHeadModel", "FalconForCausalLM",
                "DeepseekV3ForCausalLM", "LlavaForConditionalGeneration", "CohereForCausalLM", "Olmo2ForCausalLM",
                "Mistral3ForConditionalGeneration", "Gemma3ForConditionalGeneration", "Qwen2VLForConditionalGeneration",
                "Qwen2_5_VLForConditionalGeneration", "Qwen3VLForConditionalGeneration",
                "Qwen3VLMoeForConditionalGeneration", "Llama4ForConditionalGeneration", "GPTNeoXForCausalLM",
                "Starcoder2ForCausalLM", "InternLM2ForCausalLM", "PhiForCausalLM");
        // two files share PhiForCausalLM: config.json's model_type picks one
        assertThat(Architecture.forConfig(config("{\"architectures\": [\"PhiForCausalLM\"], \"model_type\": \"phi-msft\"}"))
                .orElseThrow().source()).isEqualTo("phi2-old.json");
        assertThat(Architecture.forConfig(config("{\"architectures\": [\"PhiForCausalLM\"], \"model_type\": \"phi\"}"))
                .orElseThrow().source()).isEqualTo("phi2.json");
    }

    @Test
    void layerTemplatesResolveWithTheLayerIndexAndExpertsExpandFromTheConfig() {
        Architecture mixtral = Architecture.forConfig(config("{\"architectures\": [\"MixtralForCausalLM\"]}"))
                .orElseThrow();
        List<String> names = mixtral.layerWeights(3, 8, config("{\"num_local_experts\": 2}")).stream()
                .map(WeightInfo::name).toList();
        assertThat(names).contains("model.layers.3.self_attn.q_proj.weight", "model.layers.3.block_sparse_moe.gate.weight",
                "model.layers.3.block_sparse_moe.experts.0.w1.weight", "model.layers.3.block_sparse_moe.experts.1.w3.weight")
                .doesNotContain("model.layers.3.block_sparse_moe.experts.2.w1.weight")
                .noneMatch(n -> n.contains("$"));
        assertThat(names).hasSize(6 + 1 + 2 * 3);
        assertThatThrownBy(() -> mixtral.layerWeights(0, 8, config("{}")))
                .hasMessageContaining("num_local_experts");
        assertThat(Architecture.forConfig(config("{\"architectures\": [\"NoSuchModel\"]}"))).isEmpty();
    }

    @Test
    void templateArithmeticFollowsMergekit() {
        assertThat(Architecture.substitute("a.${layer_index+1}.${layer_index-1}.${num_layers}",
                Map.of("layer_index", 4, "num_layers", 9))).isEqualTo("a.5.3.9");
        assertThatThrownBy(() -> Architecture.substitute("a.${expert_index}.w", Map.of("layer_index", 1)))
                .hasMessageContaining("unknown variable ${expert_index}");
    }

    @Test
    void aBadFamilyFileNamesTheFileAndTheField() {
        String ok = """
                {"model_type": "x", "architectures": ["X"], "num_layers_config_key": "n",
                 "pre_weights": [{"name": "e", "is_embed": true}],
                 "layer_templates": {"weights": [{"name": "l.${layer_index}.w"}]}, "post_weights": []}
                """;
        assertThat(Architecture.parse(ok, "x.json").layerWeights(2, 3, config("{}")).get(0).name()).isEqualTo("l.2.w");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("l.${layer_index}.w", "l.w"), "x.json"))
                .hasMessageContaining("x.json").hasMessageContaining("has no ${layer_index}")
                .hasMessageContaining("allowed only with override_num_layers");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("l.${layer_index}.w", "l.${layer_index}.${expert_index}"), "x.json"))
                .hasMessageContaining("x.json: layer_templates.weights").hasMessageContaining("expert_index");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("\"is_embed\": true", "\"is_embed\": 1"), "x.json"))
                .hasMessageContaining("x.json: pre_weights[0].is_embed must be true or false");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("\"post_weights\"", "\"post_weight\""), "x.json"))
                .hasMessageContaining("unknown field 'post_weight'");
        assertThatThrownBy(() -> Architecture.parse("{", "x.json")).hasMessageContaining("x.json: not valid JSON");
    }

    @Test
    void aWeightPrefixAppliesToNamesAliasesAndTiedNames() {
        Architecture a = Architecture.parse("""
                {"model_type": "x", "architectures": ["X"], "num_layers_config_key": "text_config.n",
                 "weight_prefix": "lm.",
                 "pre_weights": [{"name": "e"}],
                 "layer_templates": {"weights": [{"name": "l.${layer_index}.w", "aliases": ["m.${layer_index}.w"]}]},
                 "post_weights": [{"name": "head", "optional": true, "tied_names": ["e"]}]}
                """, "x.json");
        assertThat(a.layerWeights(0, 1, config("{}")).get(0).names()).containsExactly("lm.l.0.w", "lm.m.0.w");
        assertThat(a.postWeights(1).get(0).tiedNames()).containsExactly("lm.e");
        assertThat(a.numLayersValue(config("{\"text_config\": {\"n\": 7}}")).intValue()).isEqualTo(7);
    }

    @Test
    void aModularFileHasModulesWithTheirOwnPrefixLayersAndNames() {
        Architecture a = Architecture.parse("""
                {"kind": "modular", "model_type": "x", "architectures": ["X"], "vocab_size_config_key": "t.v",
                 "modules": {
                   "text": {"weight_prefix": "lm.", "aliases": ["model.lm"], "architecture": {
                     "model_type": "y", "num_layers_config_key": "t.n", "pre_weights": [{"name": "e", "is_embed": true}],
                     "layer_templates": {"weights": [{"name": "l.${layer_index}.w"}]}, "post_weights": []}},
                   "proj": {"architecture": {"model_type": "", "pre_weights": [{"name": "p.w"}],
                     "layer_templates": {"weights": []}, "post_weights": [], "override_num_layers": 0}}}}
                """, "x.json");
        assertThat(a.modules()).extracting(Architecture.Module::name).containsExactly("text", "proj");
        Architecture text = a.modules().get(0).layout();
        assertThat(text.layerWeights(1, 2, config("{}")).get(0).name()).isEqualTo("lm.l.1.w");
        assertThat(text.preWeights(2).get(0).name()).isEqualTo("lm.e");
        assertThat(text.numLayersValue(config("{\"t\": {\"n\": 5}}")).intValue()).isEqualTo(5);
        assertThat(a.modules().get(0).answersTo("model.lm")).isTrue();
        assertThat(a.modules().get(1).layout().numLayersValue(config("{}")).intValue()).isZero();
        assertThat(a.vocabSizeKey()).isEqualTo("t.v");
        // a family of one module is mergekit's one default module
        Architecture llama = Architecture.forConfig(config("{\"architectures\": [\"LlamaForCausalLM\"]}")).orElseThrow();
        assertThat(llama.modules()).singleElement().satisfies(m -> assertThat(m.layout()).isSameAs(llama));
    }

    @Test
    void aBadModularFileNamesTheModuleAndTheField() {
        String ok = """
                {"kind": "modular", "model_type": "x", "architectures": ["X"],
                 "modules": {"m": {"architecture": {"pre_weights": [], "layer_templates": {"weights": []},
                   "post_weights": []}}}}
                """;
        assertThat(Architecture.parse(ok, "x.json").modules()).hasSize(1);
        assertThatThrownBy(() -> Architecture.parse(ok.replace("modular", "modulr"), "x.json"))
                .hasMessageContaining("x.json: kind must be 'module' or 'modular'");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("\"architecture\"", "\"subfolder\": \"v\", \"architecture\""),
                "x.json")).hasMessageContaining("x.json: modules.m: subfolder");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("\"post_weights\"", "\"post_weight\""), "x.json"))
                .hasMessageContaining("x.json: modules.m.architecture: unknown field 'post_weight'");
        assertThatThrownBy(() -> Architecture.parse(ok.replace("\"layer_templates\": {\"weights\": []}",
                "\"layer_templates\": {\"weights\": []}, \"override_num_layers\": -1"), "x.json"))
                .hasMessageContaining("override_num_layers must be an integer >= 0");
        assertThatThrownBy(() -> Architecture.parse("{\"kind\": \"modular\", \"model_type\": \"x\", "
                + "\"architectures\": [\"X\"], \"modules\": {}}", "x.json"))
                .hasMessageContaining("x.json: modules must be a non-empty mapping");
    }

    @Test
    void aLayerTemplateWithoutTheLayerIndexInAModuleOfFixedLayersIsOneWeightPlannedAtLayerZero() {
        // mergekit's qwen2_vl merger: two fixed layers whose templates name the same tensors at each layer
        Architecture a = Architecture.parse("""
                {"kind": "modular", "model_type": "x", "architectures": ["X"],
                 "tagalong_files": ["preprocessor_config.json", "vocab.json"],
                 "modules": {"merger": {"architecture": {"model_type": "", "architectures": [],
                   "override_num_layers": 2, "pre_weights": [{"name": "m.ln.weight"}],
                   "layer_templates": {"weights": [{"name": "m.mlp.0.weight"}, {"name": "m.deep.${layer_index}.w"}]},
                   "post_weights": []}}}}
                """, "x.json");
        Architecture merger = a.modules().get(0).layout();
        assertThat(merger.numLayersValue(config("{}")).intValue()).isEqualTo(2);
        assertThat(merger.layerWeights(0, 2, config("{}"))).extracting(WeightInfo::name)
                .containsExactly("m.mlp.0.weight", "m.deep.0.w");
        assertThat(merger.layerWeights(1, 2, config("{}"))).extracting(WeightInfo::name).containsExactly("m.deep.1.w");
        assertThat(merger.countLayers(List.of("m.mlp.0.weight", "m.deep.0.w", "m.deep.1.w"))).isEqualTo(2);
        assertThat(a.tagalongFiles()).containsExactly("preprocessor_config.json", "vocab.json");
        assertThat(Architecture.forConfig(config("{\"architectures\": [\"LlamaForCausalLM\"]}")).orElseThrow()
                .tagalongFiles()).isEmpty();
    }

    @Test
    void llavasModulesAreTheOnesMergekitInfersForIt() {
        Architecture llava = Architecture.forConfig(config("{\"architectures\": [\"LlavaForConditionalGeneration\"]}"))
                .orElseThrow();
        assertThat(llava.modules()).extracting(Architecture.Module::name).containsExactly(
                "language_model.model.layers", "vision_tower.vision_model.encoder.layers", "default");
        assertThat(llava.modules().get(1).answersTo("model.vision_tower.vision_model.encoder.layers")).isTrue();
        assertThat(llava.modules().get(1).layout().layerWeights(4, 5, config("{}")))
                .extracting(WeightInfo::name).contains("vision_tower.vision_model.encoder.layers.4.mlp.fc1.weight");
        assertThat(llava.modules().get(2).layout().layerWeights()).isEmpty();
        assertThat(llava.modules().get(2).layout().preWeights(0)).extracting(WeightInfo::name)
                .contains("multi_modal_projector.linear_1.weight", "vision_tower.vision_model.embeddings.patch_embedding.weight",
                        "language_model.model.embed_tokens.weight", "language_model.lm_head.weight");
    }

    @Test
    void severalLayerStacksAreInferredAsOneModulePerPrefixAndADefaultModule() {
        // a's vision layer 1 lacks its bias, b lacks the projector bias; the head and embedding have vocab rows
        Map<String, List<String>> names = new java.util.LinkedHashMap<>();
        names.put("a", List.of("embed.weight", "lm_head.weight", "proj.weight", "proj.bias",
                "text.layers.0.w.weight", "text.layers.1.w.weight",
                "vision.blocks.0.fc.weight", "vision.blocks.0.fc.bias", "vision.blocks.1.fc.weight",
                "vision.blocks.2.fc.weight", "vision.blocks.2.fc.bias", "vision.blocks_norm.weight"));
        names.put("b", List.of("embed.weight", "lm_head.weight", "proj.weight",
                "text.layers.0.w.weight", "text.layers.1.w.weight",
                "vision.blocks.0.fc.weight", "vision.blocks.0.fc.bias", "vision.blocks.1.fc.weight",
                "vision.blocks.1.fc.bias", "vision.blocks.2.fc.weight", "vision.blocks.2.fc.bias",
                "vision.blocks_norm.weight"));
        Map<String, long[]> shapes = Map.of("embed.weight", new long[]{16, 4}, "lm_head.weight", new long[]{16, 4},
                "proj.weight", new long[]{4, 16}, "proj.bias", new long[]{4}, "vision.blocks_norm.weight",
                new long[]{2, 16}); // 16 columns: not an embedding
        Architecture a = Architecture.infer("Vlm", names, shapes,
                config("{\"text_config\": {\"vocab_size\": 16}, \"num_hidden_layers\": 7}"));
        assertThat(a.isInferred()).isTrue();
        assertThat(a.architectures()).containsExactly("Vlm");
        assertThat(a.vocabSizeKey()).isEqualTo("text_config.vocab_size");
        assertThat(a.modules()).extracting(Architecture.Module::name)
                .containsExactly("text.layers", "vision.blocks", "default");
        Architecture text = a.modules().get(0).layout();
        Architecture vision = a.modules().get(1).layout();
        Architecture outer = a.modules().get(2).layout();
        assertThat(text.inferredLayers()).isEqualTo(2);
        assertThat(vision.inferredLayers()).isEqualTo(3);
        assertThat(outer.inferredLayers()).isZero();
        // no config key: the top-level num_hidden_layers (7) is not read for any module
        assertThat(a.modules()).allMatch(m -> m.layout().numLayersKeys().isEmpty());
        assertThat(text.layerWeights()).containsExactly(
                new WeightInfo("text.layers.${layer_index}.w.weight", false, false, List.of(), List.of()));
        assertThat(vision.layerWeights(1, 3, config("{}"))).containsExactly(
                new WeightInfo("vision.blocks.1.fc.bias", false, true, List.of(), List.of()),
                new WeightInfo("vision.blocks.1.fc.weight", false, false, List.of(), List.of()));
        assertThat(text.preWeights()).isEmpty();
        assertThat(vision.preWeights()).isEmpty();
        // every loose weight is the default module's, the one under a stack's prefix too
        assertThat(outer.layerWeights()).isEmpty();
        assertThat(outer.preWeights(0)).containsExactly(
                new WeightInfo("embed.weight", true, false, List.of(), List.of()),
                new WeightInfo("lm_head.weight", true, false, List.of(), List.of()),
                new WeightInfo("proj.bias", false, true, List.of(), List.of()),
                new WeightInfo("proj.weight", false, false, List.of(), List.of()),
                new WeightInfo("vision.blocks_norm.weight", false, false, List.of(), List.of()));

        // without loose weights there is no default module
        Architecture stacks = Architecture.infer("Vlm", Map.of("a", List.of("x.0.w", "y.0.w", "y.1.w")), Map.of(),
                config("{}"));
        assertThat(stacks.modules()).extracting(Architecture.Module::name).containsExactly("x", "y");
        assertThat(stacks.vocabSizeKey()).isEqualTo("vocab_size");
    }

    @Test
    void oneStackOrNoneIsOneLayoutAsBefore() {
        Architecture one = Architecture.infer("Dec", Map.of("a", List.of("emb", "m.layers.0.w", "m.layers.1.w")),
                Map.of("emb", new long[]{16, 4}), config("{\"vocab_size\": 16, \"n_layer\": 2}"));
        assertThat(one.submodules()).isEmpty();
        assertThat(one.modules()).extracting(Architecture.Module::name).containsExactly("default");
        assertThat(one.inferredLayers()).isEqualTo(2);
        assertThat(one.numLayersKeys()).containsExactly("n_layer");
        assertThat(one.preWeights()).containsExactly(new WeightInfo("emb", true, false, List.of(), List.of()));
        assertThat(one.layerWeights()).extracting(WeightInfo::name).containsExactly("m.layers.${layer_index}.w");

        Architecture none = Architecture.infer("Flat", Map.of("a", List.of("w", "b")), Map.of(),
                config("{\"num_hidden_layers\": 4}"));
        assertThat(none.submodules()).isEmpty();
        assertThat(none.inferredLayers()).isZero();
        assertThat(none.numLayersKeys()).isEmpty();
        assertThat(none.layerWeights()).isEmpty();
        assertThat(none.preWeights()).extracting(WeightInfo::name).containsExactly("b", "w");
    }

    @Test
    void inferenceWithoutAnyTensorOrWithAnUnreadableIndexSaysWhatItFound() {
        assertThatThrownBy(() -> Architecture.infer("Empty", Map.of("a", List.of(), "b", List.of()), Map.of(),
                config("{}"))).hasMessageStartingWith("cannot infer the tensor layout of architecture 'Empty' (no"
                + " family file): no model has any tensor (models: ");
        assertThatThrownBy(() -> Architecture.infer("Long", Map.of("a", List.of("m.layers.99999999999.w")),
                Map.of(), config("{}"))).hasMessageContaining("'m.layers.99999999999.w' of model 'a' has layer"
                + " index 99999999999 under 'm.layers', beyond the 1024 layers a model may have");
    }
}
